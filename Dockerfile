# signoff: one process runs the HTTP API, the channels and the job workers.
# PostgreSQL and Redis are external (DATABASE_URL, REDIS_URL).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY src ./src
COPY prompts ./prompts
COPY bin ./bin
COPY tsconfig.json ./
# In a container the API must listen beyond loopback; put it behind a proxy or a private network.
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=3000 SIGNOFF_CONFIG=/config/signoff.yaml
EXPOSE 3000
USER node
# tsx runs the TypeScript sources directly (no build step); SIGTERM shuts down cleanly.
CMD ["node", "--import", "tsx", "src/main.ts"]
