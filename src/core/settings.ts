/**
 * Per-server and per-channel settings, and who may use the bot where. A channel's setting
 * wins over its server's, which wins over the environment's defaults; a thread follows its
 * parent channel unless it has settings of its own.
 */

/** What an admin can set for a server or one channel. Absent: inherit. */
export interface ScopeSettings {
  model?: string;
  /** The system prompt (at most PERSONA_MAX_CHARS). */
  persona?: string;
  threads?: boolean;
  /** Media from chat (mentions and /ask) on or off. */
  media?: boolean;
  /** Role ids allowed to use the bot; an empty list means everyone. */
  roles?: string[];
  enabled?: boolean;
}

export type SettingName = keyof ScopeSettings;
export type SettingSource = 'channel' | 'parent channel' | 'server' | 'default';

export interface EffectiveSettings {
  model: string;
  persona: string;
  threads: boolean;
  media: boolean;
  /** Empty: everyone. */
  roles: string[];
  enabled: boolean;
  /** Where each value came from, for /settings show. */
  sources: Record<SettingName, SettingSource>;
}

/** Discord caps a text input (the persona modal) at 4,000 characters. */
export const PERSONA_MAX_CHARS = 4000;

export const SETTING_NAMES: readonly SettingName[] = ['model', 'persona', 'threads', 'media', 'roles', 'enabled'];

/** The layers from most to least specific; the first that sets a value wins. */
export function resolveSettings(
  defaults: Omit<EffectiveSettings, 'sources'>,
  layers: readonly { source: SettingSource; settings: ScopeSettings | undefined }[],
): EffectiveSettings {
  const out = { ...defaults, sources: {} as Record<SettingName, SettingSource> };
  for (const name of SETTING_NAMES) {
    const layer = layers.find((l) => l.settings?.[name] !== undefined);
    out.sources[name] = layer?.source ?? 'default';
    if (layer) (out as Record<SettingName, unknown>)[name] = layer.settings?.[name];
  }
  return out;
}

export type AccessDecision = 'allowed' | 'disabled' | 'role';

/** Whether a member may use the bot in a place: it must be enabled there, and they must hold an allowed role if any are set. */
export function decideAccess(settings: Pick<EffectiveSettings, 'enabled' | 'roles'>, memberRoleIds: readonly string[]): AccessDecision {
  if (!settings.enabled) return 'disabled';
  if (settings.roles.length > 0 && !settings.roles.some((id) => memberRoleIds.includes(id))) return 'role';
  return 'allowed';
}

/**
 * Role ids from what an admin typed: role mentions (`<@&123> <@&456>`) or bare ids, or
 * `everyone` (an empty list). Undefined when nothing in it is a role.
 */
export function parseRoles(text: string): string[] | undefined {
  const trimmed = text.trim();
  if (/^@?everyone$/i.test(trimmed)) return [];
  // A mention's id is a bare id between word boundaries too, so one pattern reads both.
  const ids = trimmed.match(/\b\d{17,20}\b/g) ?? [];
  const rest = trimmed.replace(/<@&\d{17,20}>|\b\d{17,20}\b|[\s,]/g, '');
  if (ids.length === 0 || rest.length > 0) return undefined;
  return [...new Set(ids)];
}

/** A thread name from the question that opened it: no mentions or markdown, one line, at most 100 characters (Discord's limit). */
export function threadName(question: string): string {
  const clean = question
    .replace(/<(@[!&]?|#)\d+>/g, '')
    .replace(/<a?:(\w+):\d+>/g, '$1')
    .replace(/[*_~`|>#\\[\]()]/g, '')
    .replace(/@(everyone|here)/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
  const name = clean || 'Conversation';
  return name.length > 100 ? `${name.slice(0, 99)}…` : name;
}
