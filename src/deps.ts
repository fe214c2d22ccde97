import type { ChatService } from './chat/chatService.js';
import type { Config } from './config.js';
import type { Logger } from './logger.js';
import type { Lifecycle } from './ops/lifecycle.js';
import type { ModelCatalog } from './sogni/modelCatalog.js';
import type { HistoryStore } from './store/historyStore.js';
import type { MediaService } from './media/mediaService.js';
import type { SpendLedger } from './spend/spendLedger.js';
import type { SettingsStore } from './settings/settingsStore.js';
import type { AttachmentInput, AttachmentRef } from './vision/readAttachments.js';
import type { NetDeps } from './net/safeFetch.js';
import type { SpendAlerts } from './spend/spendAlerts.js';
import type { AnswerRecords } from './discord/cleanup.js';

/** Everything a handler needs, built once in createBot and passed down. */
export interface Deps {
  config: Config;
  logger: Logger;
  /** Shutting down: handlers refuse new work (RESTARTING_LINE) while work in flight finishes. */
  lifecycle: Lifecycle;
  chat: ChatService;
  history: HistoryStore;
  models: ModelCatalog;
  media: MediaService;
  ledger: SpendLedger;
  /** Server and channel settings (model, persona, threads, media, who may use the bot). */
  settings: SettingsStore;
  /** Attachments to data URIs and text, with the configured limits. */
  readAttachments(refs: readonly AttachmentRef[]): Promise<AttachmentInput>;
  /** The one safe fetcher for user- and model-supplied links, and the limiter on downloads in flight. */
  net: NetDeps;
  /** The server's spend alert channel (`/spend alerts`). */
  alerts: SpendAlerts;
  /** Which messages make up each chat answer, for its 🗑️ button. */
  answers: AnswerRecords;
}
