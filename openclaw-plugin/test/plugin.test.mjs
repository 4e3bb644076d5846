// The plugin's translation, against a fake host speaking the protocol over real pipes:
// command replies (placeholder edit payload), taps edited in place, late edits, restarts
// after a crash, timeouts, protocol mismatch, owners, channels without buttons, lazy start.
import { test } from "node:test";
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

import plugin, {
  COMMANDS,
  binaryFor,
  FAILURES,
  Host,
  NAMESPACES,
  buttonsAvailable,
  commandSender,
  createPlugin,
  isOwner,
  runCommand,
  runTap,
  tapSender,
} from "../index.js";

const FAKE = fileURLToPath(new URL("./fake-host.mjs", import.meta.url));
const quiet = { info() {}, warn() {} };

function fakeHost(opts = {}) {
  return new Host({ binary: process.execPath, args: [FAKE], logger: quiet, ...opts });
}

const owner = { channel: "telegram", sender: "42", chat: "42", is_owner: true, authorized: true, private: true, buttons: true };
const cmd = (text, from = owner) => ({ type: "command", ...from, text });

function recorder() {
  const calls = [];
  return {
    calls,
    respond: {
      reply: async (p) => calls.push(["reply", p]),
      editMessage: async (p) => calls.push(["edit", p]),
      deleteMessage: async () => calls.push(["delete"]),
      editButtons: async () => {},
      clearButtons: async () => {},
    },
  };
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

test("a command's reply is the host's first message as edited, with Telegram buttons", async (t) => {
  const host = fakeHost();
  t.after(() => host.stop());
  const reply = await runCommand(host, cmd("/codex_usage all"));
  assert.equal(reply.text, "alice · owner=true private=true");
  assert.deepEqual(reply.channelData.telegram.buttons, [
    [
      { text: "all", callback_data: "codex_auth_usage:all" },
      { text: "default", callback_data: "codex_auth_usage:default" },
    ],
  ]);
  assert.equal(reply.presentation, undefined, "a presentation would stop OpenClaw editing the placeholder");
  const long = await runCommand(host, cmd("/codex_usage long"));
  assert.equal(long.text, "part one\n\npart two");
  assert.ok(long.channelData.telegram.buttons);
});

test("a channel without buttons gets the text alone", async (t) => {
  const host = fakeHost();
  t.after(() => host.stop());
  const from = { ...owner, channel: "discord", buttons: false, private: false };
  const reply = await runCommand(host, cmd("/codex_usage all", from));
  assert.equal(reply.channelData, undefined);
  assert.match(reply.text, /private=false/);
});

test("a tap edits the tapped message in place, replies for new messages, and later edits still land", async (t) => {
  const host = fakeHost();
  t.after(() => host.stop());
  const r = recorder();
  const res = await runTap(host, { respond: r.respond }, { type: "tap", ...owner, data: "codex_auth_usage:all", message: 77 });
  assert.deepEqual(res, { handled: true });
  assert.deepEqual(r.calls[0], ["edit", { text: "Running Codex usage check…" }]);
  assert.deepEqual(r.calls[1], [
    "edit",
    {
      text: "tapped codex_auth_usage:all owner=true",
      buttons: [
        [
          { text: "all", callback_data: "codex_auth_usage:all" },
          { text: "default", callback_data: "codex_auth_usage:default" },
        ],
      ],
    },
  ]);
  assert.deepEqual(r.calls[2], ["reply", { text: "overflow" }]);
  await sleep(150);
  assert.deepEqual(r.calls.at(-1), ["edit", { text: "later" }]);
});

test("a duplicate tap's notice is shown as a reply and nothing is edited", async (t) => {
  const host = fakeHost();
  t.after(() => host.stop());
  const r = recorder();
  await runTap(host, { respond: r.respond }, { type: "tap", ...owner, data: "codex_auth_usage:again", message: 5 });
  assert.deepEqual(r.calls, [["reply", { text: "Already running" }]]);
});

test("a device login's outcome after the reply goes to the late path", async (t) => {
  const host = fakeHost();
  t.after(() => host.stop());
  const late = [];
  const reply = await runCommand(host, cmd("/codex_auth device bob"), (op) => late.push(op));
  assert.match(reply.text, /ABCD-1234/);
  await sleep(150);
  assert.equal(late.length, 1);
  assert.equal(late[0].text, "Device login for bob done");
});

test("the host dying mid-request fails that request clearly and the next one restarts it", async (t) => {
  const host = fakeHost();
  t.after(() => host.stop());
  const first = await runCommand(host, cmd("/codex_usage pid"));
  const died = await runCommand(host, cmd("/codex_usage die"));
  assert.equal(died.text, FAILURES.died);
  const again = await runCommand(host, cmd("/codex_usage pid"));
  assert.match(again.text, /^pid \d+$/);
  assert.notEqual(again.text, first.text, "a new child");
});

test("a request the host never finishes times out with a clear failure", async (t) => {
  const host = fakeHost({ timeoutMs: 200 });
  t.after(() => host.stop());
  const reply = await runCommand(host, cmd("/codex_usage slow"));
  assert.equal(reply.text, FAILURES.timeout);
  const other = fakeHost();
  t.after(() => other.stop());
  const busy = await runCommand(other, cmd("/codex_usage busy"));
  assert.equal(busy.text, FAILURES.refused);
});

test("a host of another protocol version is not restarted in a loop", async (t) => {
  const host = fakeHost({ env: { FAKE_PROTOCOL: "2" } });
  t.after(() => host.stop());
  const reply = await runCommand(host, cmd("/codex_usage pid"));
  assert.equal(reply.text, FAILURES.mismatch);
  const again = await runCommand(host, cmd("/codex_usage pid"));
  assert.equal(again.text, FAILURES.mismatch);
});

test("a missing binary is a clear failure", async () => {
  const host = new Host({ binary: "/nonexistent/codex-profiler", logger: quiet });
  const reply = await runCommand(host, cmd("/codex_usage all"));
  assert.ok([FAILURES.start, FAILURES.died].includes(reply.text), reply.text);
});

test("owners come from commands.ownerAllowFrom as OpenClaw reads it", () => {
  const config = { commands: { ownerAllowFrom: ["telegram:42", "7", "*", "discord:99"] } };
  assert.equal(isOwner(config, "telegram", "42"), true);
  assert.equal(isOwner(config, "telegram", "7"), true, "a bare id is an owner on every channel");
  assert.equal(isOwner(config, "telegram", "99"), false, "another channel's entry");
  assert.equal(isOwner(config, "discord", "99"), true);
  assert.equal(isOwner(config, "telegram", "5"), false, "a wildcard never makes an owner");
  assert.equal(isOwner({}, "telegram", "42"), false);
  assert.equal(isOwner(config, "telegram", ""), false);
});

test("senders: Telegram private and group commands, taps without an owner flag", () => {
  const config = { commands: { ownerAllowFrom: ["telegram:42"] } };
  const dm = commandSender({ channel: "telegram", senderId: "42", from: "telegram:42", to: "telegram:42", isAuthorizedSender: true }, config);
  assert.deepEqual(dm, { channel: "telegram", sender: "42", chat: "42", is_owner: true, authorized: true, private: true, buttons: true });
  const group = commandSender({ channel: "telegram", senderId: "42", from: "telegram:group:-100", to: "telegram:-100", isAuthorizedSender: true }, config);
  assert.equal(group.private, false);
  assert.equal(group.chat, "-100");
  const flagged = commandSender({ channel: "telegram", senderId: "43", from: "telegram:43", to: "telegram:43", senderIsOwner: true }, config);
  assert.equal(flagged.is_owner, true, "the gateway's own flag wins where it gives one");
  const tap = tapSender({ senderId: "43", isGroup: false, auth: { isAuthorizedSender: true }, callback: { chatId: "43" } }, config);
  assert.equal(tap.is_owner, false);
  assert.equal(tap.private, true);
  const stranger = tapSender({ senderId: "44", isGroup: true, auth: { isAuthorizedSender: false }, callback: { chatId: "-5" } }, config);
  assert.equal(stranger.authorized, false);
  assert.equal(stranger.private, false);
});

test("buttons only where OpenClaw shows them: Telegram, per its inlineButtons scope", () => {
  const tg = (capabilities, accounts) => ({ channels: { telegram: { capabilities, accounts } } });
  assert.equal(buttonsAvailable({}, "telegram", undefined, true), true, "the default scope is allowlist");
  assert.equal(buttonsAvailable({}, "telegram", undefined, false), true);
  for (const channel of ["discord", "slack", "whatsapp", "signal"]) {
    assert.equal(buttonsAvailable(tg({ inlineButtons: "all" }), channel, undefined, true), false, channel);
  }
  assert.equal(buttonsAvailable(tg({ inlineButtons: "off" }), "telegram", undefined, true), false);
  assert.equal(buttonsAvailable(tg({ inlineButtons: "dm" }), "telegram", undefined, true), true);
  assert.equal(buttonsAvailable(tg({ inlineButtons: "dm" }), "telegram", undefined, false), false);
  assert.equal(buttonsAvailable(tg({ inlineButtons: "group" }), "telegram", undefined, true), false);
  assert.equal(buttonsAvailable(tg({ inlineButtons: " ALL " }), "telegram", undefined, false), true);
  assert.equal(buttonsAvailable(tg(["reactions"]), "telegram", undefined, true), false, "legacy list without inlineButtons");
  assert.equal(buttonsAvailable(tg(["inlineButtons"]), "telegram", undefined, false), true);
  const accounts = { Work: { capabilities: { inlineButtons: "off" } }, home: { capabilities: [] } };
  assert.equal(buttonsAvailable(tg({ inlineButtons: "all" }, accounts), "telegram", "work", true), false, "the account's own");
  assert.equal(buttonsAvailable(tg({ inlineButtons: "all" }, accounts), "telegram", "home", true), true, "an empty list inherits");
});

test("a channel without buttons: the host is told so, and no reply carries buttons", async (t) => {
  const hosts = [];
  t.after(() => hosts.forEach((h) => h.stop()));
  const p = createPlugin({ makeHost: () => (hosts.push(fakeHost()), hosts.at(-1)) });
  const commands = [];
  p.register({ config: {}, registerCommand: (c) => commands.push(c), registerInteractiveHandler: () => {} });
  const usage = commands.find((c) => c.name === "codex_usage");
  const discord = { channel: "discord", senderId: "77", from: "discord:77", to: "channel:5", args: "", config: {} };
  assert.equal((await usage.handler(discord)).text, "echo /codex_usage buttons=false");
  // A choice typed back as the command reaches the host as that command.
  const typed = await usage.handler({ ...discord, args: "all" });
  assert.equal(typed.channelData, undefined);
  const off = { channels: { telegram: { capabilities: { inlineButtons: "off" } } } };
  const dm = { channel: "telegram", senderId: "42", from: "telegram:42", to: "telegram:42", args: "long", config: off };
  const reply = await usage.handler(dm);
  assert.equal(reply.text, "part one\n\npart two");
  assert.equal(reply.channelData, undefined, "buttons the host drew anyway are not sent");
  const on = await usage.handler({ ...dm, config: {} });
  assert.ok(on.channelData.telegram.buttons);
  const tapCtx = { senderId: "42", isGroup: true, accountId: "default", auth: { isAuthorizedSender: true }, callback: { chatId: "-5" } };
  const dmOnly = { channels: { telegram: { capabilities: { inlineButtons: "dm" } } } };
  assert.equal(tapSender(tapCtx, dmOnly).buttons, false);
  assert.equal(tapSender({ ...tapCtx, isGroup: false }, dmOnly).buttons, true);
});

test("register() registers the commands and namespaces and starts nothing; one host for all", async (t) => {
  let made = 0;
  const hosts = [];
  t.after(() => hosts.forEach((h) => h.stop()));
  const p = createPlugin({
    makeHost: () => {
      made++;
      hosts.push(fakeHost());
      return hosts.at(-1);
    },
  });
  const commands = [];
  const handlers = [];
  const api = { config: {}, registerCommand: (c) => commands.push(c), registerInteractiveHandler: (h) => handlers.push(h) };
  p.register(api);
  p.register(api);
  assert.equal(made, 0, "no child at register()");
  assert.deepEqual(commands.slice(0, 3).map((c) => c.name), COMMANDS.map((c) => c.name));
  assert.ok(commands.every((c) => c.requireAuth === true && c.nativeProgressMessages.default));
  assert.deepEqual(handlers.slice(0, NAMESPACES.length).map((h) => h.namespace), NAMESPACES);
  assert.ok(handlers.every((h) => h.channel === "telegram"));
  const reply = await commands[0].handler({ channel: "telegram", senderId: "42", from: "telegram:42", to: "telegram:42", args: " all ", config: { commands: { ownerAllowFrom: ["telegram:42"] } } });
  assert.equal(reply.text, "alice · owner=true private=true");
  await commands[1].handler({ channel: "telegram", senderId: "42", from: "telegram:42", to: "telegram:42", config: {} });
  assert.equal(made, 1);
  assert.equal(typeof plugin.register, "function");
});

test("the binary comes from the config, else host.json, else PATH", () => {
  const dir = mkdtempSync(join(tmpdir(), "cp-plugin-"));
  const file = join(dir, "host.json");
  assert.equal(binaryFor({}, file), "codex-profiler");
  writeFileSync(file, JSON.stringify({ binary: "/opt/cp/codex-profiler" }));
  assert.equal(binaryFor({}, file), "/opt/cp/codex-profiler");
  assert.equal(binaryFor({ binary: "/usr/local/bin/codex-profiler" }, file), "/usr/local/bin/codex-profiler");
  writeFileSync(file, "{not json");
  assert.equal(binaryFor(undefined, file), "codex-profiler");
});
