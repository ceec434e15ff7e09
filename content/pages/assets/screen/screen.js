// The 批量排摸 page: picks a register, sends it to screen-worker.mjs (Pyodide, on this device),
// shows progress, and downloads the result table (and 慈溪's 附件1 list when asked).
// Nothing is uploaded: the file goes from the file picker to the worker in this tab and back.
import { stashRegister } from "../checker/visits.js";

const $ = (id) => document.getElementById(id);
const statusBox = $("ys-status");
const statusText = $("ys-status-text");
const bar = $("ys-progress");
const form = $("ys-form");
const start = $("ys-start");
const STAGE_TEXT = { runtime: "正在载入计算程序（第一次要下载约 6 MB，以后就快了）……",
                     packages: "正在载入养老服务目录……", checker: "马上就好……" };

function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, "0");
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}
$("ys-asof").value = today();

function setStatus(text, state, value, max) {
  statusText.textContent = text;
  statusBox.className = "ys-status" + (state ? ` ys-status--${state}` : "");
  if (value === undefined) bar.removeAttribute("value");
  else { bar.max = max; bar.value = value; }
}

let worker;
let ready = false;
let job = 0;
const pending = new Map();
try {
  worker = new Worker(new URL("screen-worker.mjs", import.meta.url), { type: "module" });
} catch (err) {
  setStatus("这个浏览器不能运行排摸程序，请换用新版的 Chrome、Edge 或手机自带浏览器。", "failed", 0, 1);
}

// offline.js registers the service worker once Pyodide has started (or failed): its precache then
// finds the big files in the HTTP cache instead of downloading them a second time.
function settled() {
  if (document.documentElement.dataset.toolSettled) return;
  document.documentElement.dataset.toolSettled = "1";
  document.dispatchEvent(new Event("yl-tool-settled"));
}

if (!worker) settled();

if (worker) {
  worker.onmessage = (event) => {
    const msg = event.data;
    if (msg.type === "stage") {
      setStatus(STAGE_TEXT[msg.stage] || "正在准备排摸程序……", "", msg.n, msg.of + 1);
    } else if (msg.type === "ready") {
      ready = true;
      start.disabled = false;
      document.body.dataset.screenReady = "1";
      setStatus("排摸程序已准备好。选择登记表，点“开始排摸”。", "ready", 1, 1);
      settled();
    } else if (msg.type === "failed") {
      setStatus(`排摸程序没有启动成功（${msg.message}）。请刷新页面再试，或换一个浏览器。`, "failed", 0, 1);
      settled();
    } else if (msg.type === "progress") {
      if (msg.total > msg.done) setStatus(`正在排摸：已完成 ${msg.done} 行，共约 ${msg.total} 行`, "busy", msg.done, msg.total);
      else setStatus(`正在排摸：已完成 ${msg.done} 行`, "busy");
    } else if (pending.has(msg.id)) {
      const done = pending.get(msg.id);
      pending.delete(msg.id);
      done(msg);
    }
  };
  worker.onerror = (event) => {
    setStatus(`排摸程序出错了（${event.message || "worker error"}）。请刷新页面再试。`, "failed", 0, 1);
    settled();
  };
}

// The largest register this page screens (bytes; checker.screen.BROWSER_LIMIT holds the same numbers and
// tests/test_screen.py checks they agree). Past it the page refuses before starting and says how to split.
const LIMIT = { csv: 10_000_000, xlsx: 6_000_000, xls: 24_000_000 };

function tooBig(file) {
  const ext = (file.name.match(/\.([a-z]+)$/i) || [, "csv"])[1].toLowerCase();
  const limit = LIMIT[ext] || LIMIT.csv;
  if (file.size <= limit) return null;
  const mb = (n) => (n / 1_000_000).toFixed(1);
  const parts = Math.ceil(file.size / limit);
  return `这个登记表有 ${mb(file.size)} MB，超过了本页一次能排摸的 ${mb(limit)} MB（约 10 万位老人）。` +
    `请把它拆成至少 ${parts} 个文件（例如每个村或每个镇一个文件，每个文件都保留表头那一行）分别排摸；` +
    "或者在电脑上用命令行排摸（python -m checker screen），那里没有这个限制。";
}

function stem(name) {
  return name.replace(/\.[^.]+$/, "") || "登记表";
}

const MIME = { xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", csv: "text/csv;charset=utf-8" };
const urls = [];

function offer(link, bytes, filename, format) {
  const url = URL.createObjectURL(new Blob([bytes], { type: MIME[format] }));
  urls.push(url);
  link.href = url;
  link.download = filename;
  link.hidden = false;
}

function showSummary(s) {
  const parts = [`共 ${s.rows} 行：排摸了 ${s.screened} 位老人`];
  if (s.header_line > 1) parts.push(`表头在第 ${s.header_line} 行（上面的标题行没有排摸）`);
  if (s.errors) parts.push(`${s.errors} 行填写有误（看结果表的“错误”列）`);
  if (s.duplicates) parts.push(`${s.duplicates} 行和前面的行是同一人（看“提示”列，只算一次）`);
  if (s.total_rows) parts.push(`${s.total_rows.length} 行是合计（小计）行，没有排摸`);
  parts.push(`${s.people_missing_out} 位老人有应享未享的服务`);
  if (s.annex1_rows !== undefined) parts.push(`附件1名单 ${s.annex1_rows} 人`);
  $("ys-summary").textContent = parts.join("，") + "。" + (s.note ? `（${s.note}）` : "") + (s.annex1_note ? `${s.annex1_note}。` : "");
  const top = $("ys-top");
  top.textContent = "";
  for (const [sid, count] of Object.entries(s.missing_out).slice(0, 8)) {
    const li = document.createElement("li");
    li.textContent = `${(s.service_names && s.service_names[sid]) || sid}：${count} 人应享未享`;
    top.append(li);
  }
}

form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const file = $("ys-file").files[0];
  if (!file) { setStatus("请先选择登记表文件。", "failed", 0, 1); $("ys-file").focus(); return; }
  if (!ready) return;
  const big = tooBig(file);
  if (big) { setStatus(big, "failed", 0, 1); return; }
  const format = form.elements.format.value;
  const annex1 = $("ys-annex1").checked;
  const asOf = $("ys-asof").value || today();
  start.disabled = true;
  for (const url of urls.splice(0)) URL.revokeObjectURL(url);
  $("ys-result").hidden = true;
  setStatus(`正在读取 ${file.name} ……`, "busy");
  const bytes = await file.arrayBuffer();
  const id = ++job;
  const reply = await new Promise((resolve) => {
    pending.set(id, resolve);
    worker.postMessage({ id, name: file.name, bytes, as_of: asOf, out_format: format,
                         annex1_format: annex1 ? format : null }, [bytes]);
  });
  start.disabled = false;
  if (reply.error) {
    setStatus(`这个文件没法排摸：${reply.error.zh}`, "failed", 0, 1);
    return;
  }
  const s = reply.summary;
  // the status box is the live region a screen reader hears (the result section below was hidden until now)
  setStatus(`排摸完成：${s.rows} 行，${s.people_missing_out} 位老人有应享未享的服务，用时 ${(reply.ms / 1000).toFixed(1)} 秒。结果表正在下载。`, "ready", 1, 1);
  showSummary(s);
  const main = $("ys-download");
  offer(main, reply.output, `${stem(file.name)}-排摸结果-${asOf}.${format}`, format);
  const annexLink = $("ys-download-annex1");
  if (reply.annex1) offer(annexLink, reply.annex1, `${stem(file.name)}-附件1名单-${asOf}.${format}`, format);
  else annexLink.hidden = true;
  $("ys-result").hidden = false;
  document.body.dataset.screenDone = String(id);
  main.click();
});

// 走访 (issue 14): the chosen register opened as the checker's visit list. The file is kept in this
// site's IndexedDB on this device (visits.js) and read by the checker page at #yl-import, which deletes it.
$("ys-visits-open").addEventListener("click", async () => {
  const said = $("ys-visits-said");
  const file = $("ys-file").files[0];
  if (!file) { said.textContent = "请先在上面“选择登记表文件”。"; $("ys-file").focus(); return; }
  const big = tooBig(file);
  if (big) { said.textContent = big; return; }
  said.textContent = `正在打开 ${file.name} ……`;
  try {
    await stashRegister(file.name, await file.arrayBuffer());
  } catch (err) {
    said.textContent = `这个浏览器不能把登记表交给“查一查”页面（${err && err.message ? err.message : err}）。`;
    return;
  }
  location.href = new URL("../../checker/#yl-import", import.meta.url).href;
});
