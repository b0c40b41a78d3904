# signoff: one process runs the HTTP API, the channels and the job workers.
# PostgreSQL and Redis are external (DATABASE_URL, REDIS_URL); compose.yaml runs all three.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
# tsx runs the sources at start and is a production dependency: no dev dependencies needed.
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY src ./src
COPY prompts ./prompts
COPY bin ./bin
COPY tsconfig.json ./
# Demo mode (no config file) keeps its generated credentials in ./.signoff: writable by the app's
# user, the rest of /app is not.
RUN mkdir -p /app/.signoff && chown node:node /app/.signoff
# In a container the API must listen beyond loopback; put it behind a proxy or a private network.
# Bound to 0.0.0.0, the web chat is off (it trusts whoever reaches it). The config file is not
# fixed here: mount one and set SIGNOFF_CONFIG (compose.yaml does), or run without one (demo mode).
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=3000
EXPOSE 3000
USER node
# Node images have no curl: ask /api/health with node's own fetch (503 while starting or degraded).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.HTTP_PORT||3000)+'/api/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
# tsx runs the TypeScript sources directly (no build step); SIGTERM shuts down cleanly.
CMD ["node", "--import", "tsx", "src/main.ts"]
