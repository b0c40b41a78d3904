/** Every adapter's platform facts, for the composition root to pass to the handlers. */
import type { Platforms } from "../domain/channel.js";
import { TELEGRAM_PLATFORM } from "./telegram/telegram-platform.js";
import { WEBCHAT_PLATFORM } from "./webchat/webchat-platform.js";
import { WHATSAPP_PLATFORM } from "./whatsapp/whatsapp-platform.js";

/** Telegram, WhatsApp and web chat facts by channel name. */
export const PLATFORMS: Platforms = {
  telegram: TELEGRAM_PLATFORM,
  whatsapp: WHATSAPP_PLATFORM,
  webchat: WEBCHAT_PLATFORM,
};
