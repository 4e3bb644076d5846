// A stand-in for `codex-profiler plugin-host`, as strict as the real one about the protocol
// (hello first, one JSON object per line, ops carry the event id) and scripted by the
// command text: the tests drive the plugin's translation against it.
import { createInterface } from "node:readline";

const protocol = Number(process.env.FAKE_PROTOCOL ?? 1);
const out = (m) => process.stdout.write(`${JSON.stringify(m)}\n`);
out({ type: "hello", protocol, version: "fake" });
process.stderr.write(`fake host ${process.pid} up\n`);

let greeted = false;
let ref = 0;
const menu = [[{ text: "all", data: "codex_auth_usage:all" }, { text: "default", data: "codex_auth_usage:default" }]];

createInterface({ input: process.stdin }).on("line", (line) => {
  let m;
  try {
    m = JSON.parse(line);
  } catch {
    return out({ type: "error", event: null, code: "malformed", message: "not JSON" });
  }
  if (m.type === "hello") {
    greeted = m.protocol === protocol;
    return;
  }
  if (!greeted) return out({ type: "error", event: m.id ?? null, code: "hello_first", message: "hello first" });
  const id = m.id;
  if (m.type === "command") {
    const text = m.text;
    if (text === "/codex_usage all") {
      const r = --ref;
      out({ type: "send", event: id, ref: r, text: "Running Codex usage check…", buttons: null });
      setTimeout(() => {
        out({ type: "edit", event: id, ref: r, text: `alice · owner=${m.is_owner} private=${m.private}`, buttons: m.buttons ? menu : null });
        out({ type: "done", event: id });
      }, 20);
    } else if (text === "/codex_usage long") {
      const r = --ref;
      out({ type: "send", event: id, ref: r, text: "part one", buttons: null });
      out({ type: "send", event: id, ref: --ref, text: "part two", buttons: menu });
      out({ type: "done", event: id });
    } else if (text === "/codex_auth device bob") {
      const r = --ref;
      out({ type: "send", event: id, ref: r, text: "Device login for bob: enter ABCD-1234", buttons: null });
      out({ type: "done", event: id });
      setTimeout(() => out({ type: "edit", event: id, ref: r, text: "Device login for bob done", buttons: null }), 30);
    } else if (text === "/codex_usage die") {
      out({ type: "send", event: id, ref: --ref, text: "Running Codex usage check…", buttons: null });
      setTimeout(() => process.exit(3), 20);
    } else if (text === "/codex_usage slow") {
      // never answers
    } else if (text === "/codex_usage pid") {
      out({ type: "send", event: id, ref: --ref, text: `pid ${process.pid}`, buttons: null });
      out({ type: "done", event: id });
    } else if (text === "/codex_usage busy") {
      out({ type: "error", event: id, code: "busy", message: "busy" });
    } else {
      out({ type: "send", event: id, ref: --ref, text: `echo ${text} buttons=${m.buttons}`, buttons: null });
      out({ type: "done", event: id });
    }
  } else if (m.type === "tap") {
    if (m.data === "codex_auth_usage:again") {
      out({ type: "answer", event: id, notice: "Already running" });
      out({ type: "done", event: id });
      return;
    }
    out({ type: "answer", event: id, notice: null });
    out({ type: "edit", event: id, ref: m.message, text: "Running Codex usage check…", buttons: null });
    out({ type: "edit", event: id, ref: m.message, text: `tapped ${m.data} owner=${m.is_owner}`, buttons: menu });
    out({ type: "send", event: id, ref: --ref, text: "overflow", buttons: null });
    out({ type: "done", event: id });
    setTimeout(() => out({ type: "edit", event: id, ref: m.message, text: "later", buttons: null }), 30);
  }
});
