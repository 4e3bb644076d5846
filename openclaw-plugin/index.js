// codex-profiler's OpenClaw plugin: /codex_usage, /codex_auth and /codex_rotation in the
// gateway's own chat. A translator with no rules of its own: every command and button tap
// goes as one JSON line to one `codex-profiler plugin-host` child, which runs the
// conversation (permissions, duplicates, wording, secrets) and answers with send / edit /
// delete / answer lines for that event, then `done`. This file only maps those onto
// OpenClaw's reply payload and interactive `respond` API. Protocol: docs/PLUGIN.md.
// No runtime dependencies; no import from `openclaw`.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";

/** The protocol version this plugin speaks. */
export const PROTOCOL = 1;

/** The commands (names and menu texts as in templates/chat/menu.j2). */
export const COMMANDS = [
  {
    name: "codex_usage",
    description: "Check Codex quota of the gateway's profiles (history: a chart over time)",
    progress: "Running Codex usage check…",
  },
  {
    name: "codex_auth",
    description: "Codex login status of each profile",
    progress: "Looking at the Codex logins…",
  },
  {
    name: "codex_rotation",
    description: "Which profiles the gateway can rotate through, and what stands in the way",
    progress: "Checking rotation…",
  },
];

/** Callback namespaces: `codex_auth_<action>` of every button the host draws (the core's
 * `callback::NAMESPACES`; a missing one would send that tap nowhere). */
export const NAMESPACES = [
  "codex_auth_usage",
  "codex_auth_status",
  "codex_auth_new",
  "codex_auth_login",
  "codex_auth_device",
  "codex_auth_retire",
  "codex_auth_delete",
  "codex_auth_confirm",
  "codex_auth_cancel",
  "codex_auth_unblock",
  "codex_auth_page",
  "codex_auth_ofirst",
  "codex_auth_oup",
  "codex_auth_odown",
  "codex_auth_oout",
  "codex_auth_oclear",
  "codex_auth_oconfirm",
  "codex_auth_restore",
  "codex_auth_restoreok",
  "codex_auth_fix",
  "codex_auth_fixok",
  "codex_auth_agent",
  "codex_auth_history",
];

/** The only texts of the plugin's own: said when there is no host to say anything. */
export const FAILURES = {
  start: "codex-profiler could not be started on the gateway host (is it installed, and is the plugin's `binary` setting right?).",
  died: "codex-profiler stopped while working on this. Please try again: it restarts by itself.",
  timeout: "codex-profiler did not finish this in time. Please try again.",
  mismatch: "This codex-profiler binary speaks another plugin protocol: update the plugin or the binary.",
  refused: "codex-profiler could not take this request. Please try again.",
};

const DEFAULT_TIMEOUT_MS = 120_000;
// A device login edits its message up to 15 minutes after its request is done.
const LATE_OPS_MS = 16 * 60_000;
const RESTART_BACKOFF_MS = 1_000;

/** Whether `sender` on `channel` is in `commands.ownerAllowFrom` (entries `telegram:123`,
 * or a bare `123` for every channel; a wildcard never makes an owner), as OpenClaw's
 * `resolveOwnerAllowFromList` reads it. Tap handlers get no owner flag, so this is checked
 * here and handed to the host, which decides what an owner may do. */
export function isOwner(config, channel, sender) {
  const list = config?.commands?.ownerAllowFrom;
  if (!Array.isArray(list) || sender == null || sender === "") return false;
  const who = String(sender).trim();
  for (const raw of list) {
    const entry = String(raw ?? "").trim();
    if (!entry || entry.includes("*")) continue;
    const i = entry.indexOf(":");
    const prefix = i > 0 ? entry.slice(0, i).toLowerCase() : "";
    if (prefix && /^[a-z][a-z0-9-]*$/.test(prefix) && !/^\d+$/.test(prefix)) {
      if (prefix !== String(channel).toLowerCase()) continue;
      if (entry.slice(i + 1).trim() === who) return true;
    } else if (entry === who) {
      return true;
    }
  }
  return false;
}

/** Telegram's inline-button scope (`off|dm|group|all|allowlist`) from a `capabilities`
 * value, as OpenClaw 2026.9.6 reads it (`resolveTelegramInlineButtonsScopeFromCapabilities`):
 * the object form's `inlineButtons`, else `allowlist`; the legacy array form is `all` when it
 * names `inlineButtons`, else `off` (an empty array: `allowlist`). */
export function inlineButtonsScope(capabilities) {
  const fallback = "allowlist";
  if (!capabilities) return fallback;
  if (Array.isArray(capabilities)) {
    if (capabilities.length === 0) return fallback;
    return capabilities.some((c) => String(c).trim().toLowerCase() === "inlinebuttons") ? "all" : "off";
  }
  if (typeof capabilities !== "object") return fallback;
  const scope = String(capabilities.inlineButtons ?? "").trim().toLowerCase();
  return ["off", "dm", "group", "all", "allowlist"].includes(scope) ? scope : fallback;
}

/** Whether our buttons work in this chat, so the host draws them (else its text fallback,
 * which asks for commands). Only Telegram: the plugin's tap handlers are registered there,
 * and OpenClaw gives a command handler no capability flag of the channel, so this reads
 * `channels.telegram.capabilities` (an account's own `accounts.<id>.capabilities` first),
 * and refuses where OpenClaw does (`inlineButtonsUnavailable`): `off` everywhere, `dm` in
 * groups, `group` in private chats. */
export function buttonsAvailable(config, channel, accountId, isPrivate) {
  if (channel !== "telegram") return false;
  const telegram = config?.channels?.telegram;
  const accounts = telegram?.accounts ?? {};
  const key = accountId == null ? undefined : Object.keys(accounts).find((k) => k.toLowerCase() === String(accountId).toLowerCase());
  const own = key === undefined ? undefined : accounts[key]?.capabilities;
  const inherited = own == null || (Array.isArray(own) && own.length === 0);
  const scope = inlineButtonsScope(inherited ? telegram?.capabilities : own);
  if (scope === "off") return false;
  if (scope === "dm") return isPrivate;
  if (scope === "group") return !isPrivate;
  return true;
}

/** Host buttons (`[[{text, data}]]`) as Telegram inline keyboard rows. */
export function telegramButtons(buttons) {
  if (!Array.isArray(buttons) || buttons.length === 0) return undefined;
  return buttons.map((row) => row.map((b) => ({ text: b.text, callback_data: b.data })));
}

function stripChannel(value, channel) {
  const s = String(value ?? "");
  return s.startsWith(`${channel}:`) ? s.slice(channel.length + 1) : s;
}

/** The event fields of a command's sender, from OpenClaw's command context. */
export function commandSender(ctx, config) {
  const channel = String(ctx.channel ?? ctx.channelId ?? "unknown");
  const sender = String(ctx.senderId ?? stripChannel(ctx.from, channel) ?? "");
  const chat = stripChannel(ctx.to ?? ctx.from ?? sender, channel) || sender;
  // Telegram: a private chat's `from` is `telegram:<chat>`, a group's carries `group`, and
  // group chat ids are negative. Elsewhere a chat is taken as shared (changes refused).
  const isPrivate =
    channel === "telegram" && !/group|channel/.test(String(ctx.from ?? "")) && !chat.startsWith("-");
  return {
    channel,
    sender,
    chat,
    is_owner: typeof ctx.senderIsOwner === "boolean" ? ctx.senderIsOwner : isOwner(config, channel, sender),
    authorized: ctx.isAuthorizedSender !== false,
    private: isPrivate,
    buttons: buttonsAvailable(config, channel, ctx.accountId, isPrivate),
  };
}

/** The event fields of a Telegram tap's sender. */
export function tapSender(ctx, config) {
  const sender = String(ctx.senderId ?? "");
  const isPrivate = ctx.isGroup !== true;
  return {
    channel: "telegram",
    sender,
    chat: String(ctx.callback?.chatId ?? ctx.conversationId ?? sender),
    is_owner: isOwner(config, "telegram", sender),
    authorized: ctx.auth?.isAuthorizedSender === true,
    private: isPrivate,
    buttons: buttonsAvailable(config, "telegram", ctx.accountId, isPrivate),
  };
}

/** One `codex-profiler plugin-host` child, started on first use and again after it dies. */
export class Host {
  constructor({ binary = "codex-profiler", args = ["plugin-host"], env = {}, logger, timeoutMs, spawnFn = spawn } = {}) {
    this.binary = binary;
    this.args = args;
    this.env = env;
    this.logger = logger ?? console;
    this.timeoutMs = timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.spawnFn = spawnFn;
    this.child = null;
    this.fatal = null;
    this.sessions = new Map();
    this.late = new Map();
    this.next = 0;
    this.startedAt = 0;
  }

  ensure() {
    if (this.fatal) throw new Error(this.fatal);
    if (this.child) return this.child;
    const child = this.spawnFn(this.binary, this.args, {
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, ...this.env },
    });
    this.child = child;
    this.startedAt = Date.now();
    child.stdin.on("error", () => {});
    createInterface({ input: child.stdout }).on("line", (line) => this.onLine(line));
    createInterface({ input: child.stderr }).on("line", (line) => this.logger.info?.(`codex-profiler: ${line}`));
    const gone = (why) => {
      if (this.child !== child) return;
      this.child = null;
      this.failAll(why);
    };
    child.on("error", (e) => {
      this.logger.warn?.(`codex-profiler plugin-host could not run: ${e.code ?? e.message}`);
      gone(FAILURES.start);
    });
    child.on("exit", (code, signal) => {
      this.logger.warn?.(`codex-profiler plugin-host exited (${signal ?? code})`);
      gone(FAILURES.died);
    });
    this.write({ type: "hello", protocol: PROTOCOL, plugin: "codex-profiler-openclaw-plugin" });
    return child;
  }

  write(message) {
    this.child?.stdin.write(`${JSON.stringify(message)}\n`);
  }

  /** Send one event; `sink(op)` gets its operations. Resolves at `done`, rejects with a
   * user-facing sentence when the host fails it, dies or takes too long. */
  async request(event, sink) {
    if (this.child == null && Date.now() - this.startedAt < RESTART_BACKOFF_MS) {
      await new Promise((r) => setTimeout(r, RESTART_BACKOFF_MS));
    }
    this.ensure();
    const id = `e${++this.next}`;
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => this.settle(id, new Error(FAILURES.timeout)), this.timeoutMs);
      this.sessions.set(id, { sink, resolve, reject, timer });
      this.write({ ...event, id });
    });
  }

  settle(id, error) {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    clearTimeout(s.timer);
    if (error) {
      s.reject(error);
      return;
    }
    const expire = setTimeout(() => this.late.delete(id), LATE_OPS_MS);
    expire.unref?.();
    this.late.set(id, s.sink);
    s.resolve();
  }

  failAll(why) {
    for (const id of [...this.sessions.keys()]) this.settle(id, new Error(why));
    this.late.clear();
  }

  onLine(line) {
    let m;
    try {
      m = JSON.parse(line);
    } catch {
      this.logger.warn?.("codex-profiler plugin-host wrote a line that is not JSON");
      return;
    }
    if (m.type === "hello") {
      if (m.protocol !== PROTOCOL) {
        this.fatal = FAILURES.mismatch;
        this.failAll(FAILURES.mismatch);
        this.child?.kill();
      }
      return;
    }
    if (m.type === "error") {
      this.logger.warn?.(`codex-profiler plugin-host refused a line: ${m.code}`);
      if (m.code === "protocol_mismatch") this.fatal = FAILURES.mismatch;
      if (m.event) this.settle(m.event, new Error(FAILURES.refused));
      return;
    }
    const session = this.sessions.get(m.event);
    const sink = session?.sink ?? this.late.get(m.event);
    if (m.type === "done") {
      this.settle(m.event);
      return;
    }
    if (sink) {
      Promise.resolve(sink(m, session == null)).catch((e) => this.logger.warn?.(`codex-profiler: delivering failed: ${e.message}`));
    }
  }

  /** Stop the child (gateway shutdown). */
  stop() {
    this.fatal = this.fatal ?? "stopped";
    this.child?.stdin.end();
  }
}

/** Run a command through the host and build the one reply OpenClaw edits its progress
 * placeholder with: the text of the first message the host sent (as edited since), any
 * further messages after it, and the buttons of the last. Operations that come after the
 * reply (a device login's outcome) go to `late(op)`. */
export async function runCommand(host, event, late) {
  const messages = [];
  const byRef = new Map();
  const sink = (op, isLate) => {
    if (isLate) return late?.(op);
    if (op.type === "send") {
      const m = { text: op.text, buttons: op.buttons };
      messages.push(m);
      byRef.set(op.ref, m);
    } else if (op.type === "edit" && byRef.has(op.ref)) {
      Object.assign(byRef.get(op.ref), { text: op.text, buttons: op.buttons });
    }
    // `delete` of the user's own message (ref 0): a command handler cannot; the host knows.
  };
  try {
    await host.request(event, sink);
  } catch (e) {
    return { text: e.message };
  }
  if (messages.length === 0) return { suppressReply: true };
  const text = messages.map((m) => m.text).join("\n\n");
  const buttons = telegramButtons(messages.findLast((m) => m.buttons)?.buttons);
  return buttons && event.buttons ? { text, channelData: { telegram: { buttons } } } : { text };
}

/** Run a Telegram tap through the host: edits go to the tapped message (in place, as often
 * as the host edits, also after `done`), new messages are replies, a notice a reply too
 * (OpenClaw has already answered the callback query). */
export async function runTap(host, ctx, event) {
  const respond = ctx.respond;
  const quiet = (p) =>
    Promise.resolve(p).catch((e) => {
      // Telegram's "message is not modified" is success.
      if (!/not modified/i.test(String(e?.message ?? e))) throw e;
    });
  const sink = async (op) => {
    const tg = telegramButtons(op.buttons);
    if (op.type === "edit" && op.ref === event.message) {
      await quiet(respond.editMessage(tg ? { text: op.text, buttons: tg } : { text: op.text }));
    } else if (op.type === "send" || op.type === "edit") {
      await quiet(respond.reply(tg ? { text: op.text, buttons: tg } : { text: op.text }));
    } else if (op.type === "delete" && op.ref === event.message) {
      await quiet(respond.deleteMessage());
    } else if (op.type === "answer" && op.notice) {
      await quiet(respond.reply({ text: op.notice }));
    }
  };
  try {
    await host.request(event, sink);
  } catch (e) {
    await quiet(respond.reply({ text: e.message })).catch(() => {});
  }
  return { handled: true };
}

/** The plugin, around a host factory (tests hand in their own). */
export function createPlugin({ makeHost } = {}) {
  let host = null;
  const hostFor = (api) => {
    // OpenClaw calls register() more than once: one child for all, started on first use.
    host ??= (makeHost ?? defaultHost)(api);
    return host;
  };
  return {
    id: "codex-profiler",
    name: "codex-profiler",
    description: "Codex quota, logins and rotation of this gateway's profiles, in its own chat.",
    register(api) {
      for (const c of COMMANDS) {
        api.registerCommand({
          name: c.name,
          description: c.description,
          acceptsArgs: true,
          requireAuth: true,
          nativeProgressMessages: { default: c.progress },
          handler: async (ctx) => {
            const config = ctx.config ?? api.config;
            const args = typeof ctx.args === "string" && ctx.args.trim() ? ` ${ctx.args.trim()}` : "";
            const event = { type: "command", ...commandSender(ctx, config), text: `/${c.name}${args}` };
            const late = (op) => deliverLate(api, config, event, op);
            return await runCommand(hostFor(api), event, late);
          },
        });
      }
      for (const namespace of NAMESPACES) {
        api.registerInteractiveHandler({
          channel: "telegram",
          namespace,
          handler: async (ctx) => {
            const config = api.config;
            const event = {
              type: "tap",
              ...tapSender(ctx, config),
              data: ctx.callback?.data ?? `${namespace}:${ctx.callback?.payload ?? ""}`,
              message: Number(ctx.callback?.messageId ?? 0),
            };
            return await runTap(hostFor(api), ctx, event);
          },
        });
      }
    },
  };
}

/** The binary: the plugin config's `binary`, else the one `codex-profiler openclaw-plugin
 * install` recorded in `host.json` beside this file, else `codex-profiler` on PATH. */
export function binaryFor(pluginConfig, hostFile = new URL("./host.json", import.meta.url)) {
  if (typeof pluginConfig?.binary === "string" && pluginConfig.binary) return pluginConfig.binary;
  try {
    const recorded = JSON.parse(readFileSync(hostFile, "utf8")).binary;
    if (typeof recorded === "string" && recorded) return recorded;
  } catch {
    // No host.json: a plugin loaded straight from the repository.
  }
  return "codex-profiler";
}

function defaultHost(api) {
  const cfg = api.pluginConfig ?? {};
  return new Host({
    binary: binaryFor(cfg),
    env: cfg.env && typeof cfg.env === "object" ? cfg.env : {},
    timeoutMs: cfg.timeoutMs,
    logger: api.logger,
  });
}

/** A message the host sends after a command's reply went out (a device login's outcome):
 * a new message through the channel's outbound adapter, where it has one. */
async function deliverLate(api, config, event, op) {
  if (op.type !== "send" && op.type !== "edit") return;
  const adapter = await api.runtime?.channel?.outbound?.loadAdapter?.(event.channel);
  if (!adapter?.sendText) {
    api.logger?.warn?.("codex-profiler: a late message could not be delivered on this channel");
    return;
  }
  await adapter.sendText({ cfg: config, to: `${event.channel}:${event.chat}`, text: op.text });
}

export default createPlugin();
