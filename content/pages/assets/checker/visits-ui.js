// 走访 on the checker page (issue 14): "保存这位老人", "下一位", the list "今天走访的老人" with
// reopen / correct / delete / 全部删除, the kept period and its question, export (XLSX, CSV), print all
// 明白卡 (one A4 page each) and the one-page 走访名单 for the 村委会, and a register opened as the
// visit list (from the 批量排摸 page, #yl-import).
//
// Privacy: the visits are in this browser's localStorage (visits.js), nowhere else. Exports are made
// in this tab (the worker) and handed to the cadre as a Blob download; print shows them on paper.
// The ID number (身份证号) is stored only if the cadre types it, exported in the register, never printed.
import * as V from "./visits.js";
import * as api from "./api.js";

const $ = (id) => document.getElementById(id);
const IMPORT_HASH = "#yl-import";
const MAX_IMPORT = 2000;          // rows a visit list takes from one register (localStorage: a few MB)
const KEEP_CHOICES = [7, 30, 90, 180, 365];

let ctx = null;                   // what form.js lends: h, ymd, today, checker, card(), loadValues() …
let currentId = null;             // the visit shown in the form (reopened), or null for a new elder
let currentVisit = null;
let lastSavedAt = null;           // the answer that was saved last (so "已保存" stays true until a change)

const h = (...a) => ctx.h(...a);
const nameOf = (v) => [v.name || v.note || "（没写姓名）", v.village ? `（${v.village}）` : ""].join("");
const dateText = (v) => (v.visited ? ctx.ymd(v.visited) : "还没走访");

// ---------------------------------------------------------------- one line of an answer

function eligibleOf(answer) {
  const rank = (r) => (typeof r.rank === "number" ? r.rank : 1e9);
  return (answer.results || []).filter((r) => r.status === "eligible").sort((a, b) => rank(a) - rank(b));
}

export function summaryOf(answer) {
  const el = eligibleOf(answer);
  const apply = el.filter((r) => r.apply !== "automatic");
  const maybe = (answer.results || []).filter((r) => r.status === "maybe").length;
  const names = apply.slice(0, 3).map((r) => r.name).join("、") + (apply.length > 3 ? ` 等 ${apply.length} 项` : "");
  return `可以享受 ${el.length} 项` + (apply.length ? ` · 需要去申请：${names}` : " · 不用去申请")
    + (maybe ? ` · 可能可以 ${maybe} 项` : "");
}

function profileFor(v) {
  // the profile as saved (its as_of: the day of the visit); a register row not yet visited: today
  const p = { ...(v.profile || {}) };
  if (!p.as_of || v.status === "todo") p.as_of = ctx.today();
  return p;
}

// ---------------------------------------------------------------- the top line and the expiry question

function renderTop() {
  const n = V.countVisits();
  const link = $("yl-visits-link");
  if (link) link.textContent = n ? `今天走访的老人：这部手机上存了 ${n} 位 ↓` : "走访登记（给村干部用）：这部手机上没有存老人 ↓";
  const count = $("yl-visits-count");
  if (count) count.textContent = n ? `这部手机上存了 ${n} 位老人。` : "这部手机上没有存老人。";
}

function daysBetween(a, b) {
  const d = (s) => Date.UTC(+s.slice(0, 4), +s.slice(5, 7) - 1, +s.slice(8, 10)) / 86400000;
  return d(b) - d(a);
}

function checkExpiry() {
  const box = $("yl-expiry");
  const today = ctx.today();
  const old = V.expiredVisits(today);
  const asked = V.askedOn();
  const keep = V.keepDays();
  // ask again only for visits that went past the period after the last answer, or a period later
  const newer = old.filter((v) => !asked || daysBetween(V.today(new Date(v.saved)), asked) <= keep);
  const due = old.length && (!asked || newer.length || daysBetween(asked, today) > keep);
  if (!due) { box.hidden = true; box.replaceChildren(); return; }
  box.hidden = false;
  box.replaceChildren(
    h("h2", { id: "yl-expiry-title" }, "有老人的记录存得比较久了"),
    h("p", {}, `有 ${old.length} 位老人的记录在这部手机上存了超过 ${keep} 天：`,
      old.slice(0, 5).map((v) => nameOf(v)).join("、"), old.length > 5 ? ` 等 ${old.length} 位` : "",
      "。不再需要的，请删除。还要用的，可以留着。"),
    h("div", { class: "yl-visits__buttons" },
      h("button", { type: "button", class: "yl-button yl-button--plain", id: "yl-expiry-keep", onclick: () => {
        V.markAsked(today);
        box.hidden = true;
        say(`已留着这 ${old.length} 位老人的记录。`);
      } }, "留着"),
      h("button", { type: "button", class: "yl-button yl-button--danger", id: "yl-expiry-delete", onclick: () => {
        V.deleteVisits(old.map((v) => v.id));
        V.markAsked(today);
        box.hidden = true;
        if (currentId && !V.getVisit(currentId)) forgetCurrent();
        renderList();
        say(`已删除 ${old.length} 位老人的记录。`);
      } }, `删除这 ${old.length} 位`)));
}

// ---------------------------------------------------------------- save this elder, next one

function saveBox() {
  const field = (id, label, attrs = {}) => h("p", { class: "yl-save__field" },
    h("label", { for: id, class: "yl-label" }, label), h("input", { id, type: "text", autocomplete: "off", ...attrs }));
  return h("section", { class: "yl-save", id: "yl-save", "aria-labelledby": "yl-save-title", hidden: true },
    h("h3", { id: "yl-save-title" }, "保存这位老人"),
    h("p", { class: "yl-save__private" }, "只存在这部手机上，不会发送出去。下面都可以不填。"),
    field("yl-v-name", "姓名"),
    field("yl-v-village", "村（社区）"),
    field("yl-v-note", "备注（例如门牌号、家人电话）"),
    field("yl-v-id", "身份证号（可以不填；明白卡上不会印）", { inputmode: "text", maxlength: "18", "aria-describedby": "yl-v-id-error" }),
    h("p", { class: "yl-error", id: "yl-v-id-error", hidden: true }),
    h("div", { class: "yl-visits__buttons" },
      h("button", { type: "button", class: "yl-button", id: "yl-v-save", onclick: saveNow }, "保存"),
      h("button", { type: "button", class: "yl-button yl-button--plain", id: "yl-v-cancel", onclick: () => {
        $("yl-save").hidden = true;
        $("yl-save-open").focus();
      } }, "不保存")));
}

function openSaveBox() {
  const box = $("yl-save");
  const v = currentVisit;
  const lastVillage = V.loadVisits().find((x) => x.village)?.village || "";
  $("yl-v-name").value = v ? v.name : "";
  $("yl-v-village").value = v ? v.village : lastVillage;
  $("yl-v-note").value = v ? v.note : "";
  $("yl-v-id").value = v ? v.id_number : "";
  $("yl-v-id-error").hidden = true;
  $("yl-v-id").removeAttribute("aria-invalid");
  box.hidden = false;
  $("yl-v-name").focus();
}

function idProblem(text) {
  if (!text) return "";
  if (/^\d{17}[\dXx]$/.test(text) || /^\d{15}$/.test(text)) return "";
  return "身份证号是18位（最后一位可能是X），请检查；不知道可以不填。";
}

function saveNow() {
  const now = ctx.current();
  if (!now) return;
  const idNumber = $("yl-v-id").value.trim().replace(/\s+/g, "").toUpperCase();
  const problem = idProblem(idNumber);
  const err = $("yl-v-id-error");
  err.hidden = !problem;
  err.textContent = problem;
  if (problem) { $("yl-v-id").setAttribute("aria-invalid", "true"); $("yl-v-id").focus(); return; }
  $("yl-v-id").removeAttribute("aria-invalid");
  const base = currentVisit || {};
  let saved;
  try {
    saved = V.saveVisit({
      ...base,
      id: currentId || undefined,
      visited: base.status === "visited" && base.visited ? base.visited : ctx.today(),
      name: $("yl-v-name").value, village: $("yl-v-village").value, note: $("yl-v-note").value,
      id_number: idNumber, profile: now.profile, source: base.source || null,
      status: "visited", summary: summaryOf(now.answer), error: undefined,
    });
  } catch (e) {
    $("yl-saved").textContent = "没能保存：这部手机的浏览器存储满了或被关掉了。请先导出、删除一些旧记录再试。";
    $("yl-saved").classList.add("yl-error");
    return;
  }
  currentId = saved.id;
  currentVisit = saved;
  lastSavedAt = now.answer;
  $("yl-save").hidden = true;
  renderList();
  showEditing();
  const n = V.countVisits();
  $("yl-saved").classList.remove("yl-error");
  $("yl-saved").textContent = `已保存：${nameOf(saved)}。这部手机上共存了 ${n} 位老人。`;
  $("yl-next").focus();
}

function forgetCurrent() {
  currentId = null;
  currentVisit = null;
  lastSavedAt = null;
  showEditing();
  renderList();
}

function nextElder() {
  forgetCurrent();
  $("yl-save").hidden = true;
  $("yl-saved").textContent = "";
  ctx.emptyForm();
  say("");
  const first = ctx.firstField();
  first?.scrollIntoView({ block: "center" });
  first?.focus();
}

// ---------------------------------------------------------------- the banner over the form: whom we look at

function showEditing() {
  const box = $("yl-editing");
  const v = currentVisit;
  if (!v) { box.hidden = true; box.replaceChildren(); return; }
  const questions = (v.questions || []).map((q) => ctx.fieldLabel(q)).filter(Boolean);
  box.hidden = false;
  box.replaceChildren(...[
    h("p", { class: "yl-editing__who" }, h("strong", {}, `正在看：${nameOf(v)}`),
      v.status === "todo" ? h("span", { class: "yl-tag yl-tag--todo" }, "待走访") : `　${dateText(v)}走访`),
    v.source ? h("p", { class: "yl-hint" }, `来自登记表“${v.source.register}”第 ${v.source.line} 行。`) : null,
    v.error ? h("p", { class: "yl-error" }, `登记表这一行有误：${v.error}。请入户时问清楚，填在下面。`) : null,
    v.status === "todo" && questions.length ? h("p", { class: "yl-editing__ask" }, "入户时要问：", questions.join("、"), "。") : null,
    h("p", { class: "yl-hint" }, v.status === "todo" ? "问清楚、填好以后，点结果下面的“保存这位老人”。"
      : "改了以后，点结果下面的“保存这位老人”，会更新这条记录。")].filter(Boolean));
}

// ---------------------------------------------------------------- the list

function renderList() {
  renderTop();
  const list = $("yl-vlist");
  const visits = V.loadVisits();
  const tools = $("yl-visits-tools");
  tools.hidden = !visits.length;
  if (!visits.length) {
    list.replaceChildren(h("li", { class: "yl-visit yl-visit--none" }, "还没有保存老人。查完一位老人后，点结果下面的“保存这位老人”。"));
    return;
  }
  list.replaceChildren(...visits.map((v) => {
    const label = nameOf(v);
    const openText = v.status === "todo" ? "打开，去走访" : "打开、修改";
    return h("li", { class: `yl-visit yl-visit--${v.status}`, "data-id": v.id },
      h("h3", { class: "yl-visit__who" }, label, v.status === "todo" ? h("span", { class: "yl-tag yl-tag--todo" }, "待走访") : null,
        v.id === currentId ? h("span", { class: "yl-tag" }, "正在看") : null),
      h("p", { class: "yl-visit__date" }, v.status === "todo" && v.source ? `登记表第 ${v.source.line} 行` : `${dateText(v)}走访`),
      v.summary ? h("p", { class: "yl-visit__sum" }, v.summary) : null,
      v.error ? h("p", { class: "yl-error" }, `登记表这一行有误：${v.error}`) : null,
      h("div", { class: "yl-visits__buttons" },
        h("button", { type: "button", class: "yl-button yl-button--plain yl-visit__open", "aria-label": `${openText} ${label}`,
                      onclick: () => openVisit(v.id) }, openText),
        h("button", { type: "button", class: "yl-button yl-button--plain yl-visit__delete", "aria-label": `删除 ${label}`,
                      onclick: () => deleteOne(v.id) }, "删除")));
  }));
}

async function openVisit(id) {
  const v = V.getVisit(id);
  if (!v) return;
  currentId = v.id;
  currentVisit = v;
  lastSavedAt = null;
  $("yl-saved").textContent = "";
  $("yl-save").hidden = true;
  showEditing();
  renderList();
  $("yl-editing").scrollIntoView({ block: "start" });
  $("yl-editing").focus();
  await ctx.loadValues(v.profile || {});
}

function deleteOne(id) {
  const v = V.getVisit(id);
  if (!v) return;
  if (!window.confirm(`删除${nameOf(v)}的记录？删除后找不回来。`)) return;
  V.deleteVisit(id);
  if (id === currentId) forgetCurrent();
  renderList();
  say(`已删除${nameOf(v)}的记录。`);
  $("yl-visits-title").focus();
}

function deleteEverything() {
  const n = V.countVisits();
  if (!n) return;
  if (!window.confirm(`删除这部手机上全部 ${n} 位老人的记录？删除后找不回来。要留底的，请先导出。`)) return;
  V.deleteAll();
  forgetCurrent();
  renderList();
  say(`已删除全部 ${n} 位老人的记录。`);
  $("yl-visits-title").focus();
}

const tell = (text, isError = false) => say(text, isError, "yl-tools-said");   // beside the export and print buttons

function say(text, isError = false, where = "yl-visits-said") {
  const el = $(where);
  el.textContent = text;
  el.classList.toggle("yl-error", isError);
}

// ---------------------------------------------------------------- export

const MIME = { xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", csv: "text/csv;charset=utf-8" };

async function exportAs(format) {
  const visits = V.loadVisits();
  if (!visits.length) return;
  const exportVisits = api.exportVisits || ctx.checker.exportVisits;
  if (typeof exportVisits !== "function") {
    tell("导出程序还没有装好（这一版网站还没有这个功能）。", true);
    return;
  }
  tell("正在生成文件……第一次导出要多准备几秒。");
  try {
    const out = await exportVisits(visits, format, { as_of: ctx.today() });
    const blob = out instanceof Blob ? out : out.blob || new Blob([out.bytes], { type: out.type || MIME[format] });
    const name = (out && out.name) || `走访名单-${ctx.today()}.${format}`;
    const url = URL.createObjectURL(blob);
    const a = h("a", { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    tell(`已生成“${name}”（${visits.length} 位老人），在手机的“下载”里。文件里有身份证号的，请只交给村委会、镇里。`);
  } catch (err) {
    tell(`没能导出：${err.zh || err.message || err}`, true);
  }
}

// ---------------------------------------------------------------- print all 明白卡, print the list

function printWith(cls, container) {
  const root = document.documentElement;
  const hadCard = root.classList.contains("yl-has-card");
  root.classList.remove("yl-has-card");
  root.classList.add(cls);
  let done = false;
  const restore = () => {
    if (done) return;
    done = true;
    root.classList.remove(cls);
    if (hadCard && document.getElementById("yl-card").childElementCount) root.classList.add("yl-has-card");
    window.removeEventListener("afterprint", restore);
    document.removeEventListener("pointerdown", restore, true);
    document.removeEventListener("keydown", restore, true);
  };
  // back to the page after the print, or at the next touch or key: a phone's print preview may open
  // after window.print() returns, so no timer takes the view away before it is printed
  window.addEventListener("afterprint", restore);
  setTimeout(() => {
    document.addEventListener("pointerdown", restore, true);
    document.addEventListener("keydown", restore, true);
  }, 0);
  root.dataset.printReady = cls;
  if (!window.yanglaoNoPrintDialog) window.print();
  return container;
}

async function answersFor(visits) {
  const out = [];
  for (const v of visits) {
    try { out.push(await ctx.checker.evaluate(profileFor(v))); } catch (err) { out.push({ error: err.zh || err.message }); }
  }
  return out;
}

async function printAllCards() {
  const visits = V.loadVisits().filter((v) => !v.error);
  if (!visits.length) { tell("没有能打印的记录。", true); return; }
  tell(`正在准备 ${visits.length} 张明白卡……`);
  const box = $("yl-print-all");
  box.replaceChildren();
  const answers = await answersFor(visits);
  visits.forEach((v, i) => {
    if (answers[i].error) return;
    const card = h("div", { class: "yl-card yl-card--many", "data-visit": v.id });
    box.append(card);
    const who = [v.name ? `老人：${v.name}` : "", v.village ? `村（社区）：${v.village}` : "", v.visited ? `走访日期：${ctx.ymd(v.visited)}` : ""]
      .filter(Boolean).join("　");
    ctx.card(answers[i], profileFor(v), card, who);
  });
  tell(`已准备 ${box.children.length} 张明白卡，每位老人一页。`);
  printWith("yl-print-all", box);
}

async function printList() {
  const visits = V.loadVisits();
  if (!visits.length) return;
  tell("正在准备走访名单……");
  const answers = await answersFor(visits);
  const today = ctx.today();
  const villages = [...new Set(visits.map((v) => v.village).filter(Boolean))];
  const rows = visits.map((v, i) => {
    const a = answers[i];
    const el = a.error ? [] : eligibleOf(a);
    const apply = el.filter((r) => r.apply !== "automatic");
    return h("tr", {},
      h("td", { class: "yl-plist__short" }, String(i + 1)),
      h("td", { class: "yl-plist__short" }, v.village || ""),
      h("td", { class: "yl-plist__short" }, v.name || v.note || ""),
      h("td", { class: "yl-plist__short" }, v.visited ? v.visited : "待走访"),
      h("td", {}, v.error ? `登记表有误：${v.error}` : a.error ? a.error : el.length ? `${el.length} 项：${el.map((r) => r.name).join("、")}` : "暂时没有"),
      h("td", {}, apply.map((r, k) => [k ? "；" : "", h("strong", {}, r.name), `（${ctx.whereShort(r)}）`])));
  });
  $("yl-print-list").replaceChildren(
    h("h1", {}, "养老服务走访名单"),
    h("p", {}, villages.length ? `村（社区）：${villages.join("、")}　` : "", `共 ${visits.length} 位老人　打印日期：${ctx.ymd(today)}`),
    h("table", { class: "yl-plist" },
      h("thead", {}, h("tr", {}, ["序号", "村（社区）", "姓名", "走访日期", "可以享受", "需要去申请 / 去哪里办"].map((t, i) => h("th", { class: i < 4 ? "yl-plist__short" : null }, t)))),
      h("tbody", {}, rows)),
    h("p", { class: "yl-plist__note" }, "本名单由“养老服务明白卡”网站在走访的手机上算出，以当地政府部门的答复为准。每位老人的明白卡另外打印。"));
  tell("走访名单已准备好。");
  printWith("yl-print-list", $("yl-print-list"));
}

// ---------------------------------------------------------------- a register as the visit list

async function importStashed() {
  let stashed = null;
  try { stashed = await V.takeStashedRegister(); } catch (err) { stashed = null; }
  history.replaceState(null, "", location.pathname + "#yl-visits");
  if (!stashed) { say("没有找到要打开的登记表。请回到“批量排摸”页面，重新选择登记表。", true); return; }
  await importFile(new File([stashed.bytes], stashed.name));
}

export async function importFile(file) {
  $("yl-visits").scrollIntoView({ block: "start" });
  const importRegister = api.importRegister || ctx.checker.importRegister;
  if (typeof importRegister !== "function") {
    say("打开登记表的程序还没有装好（这一版网站还没有这个功能）。", true);
    return;
  }
  say(`正在读取登记表“${file.name}”……第一次要先准备查询程序，请稍等。`);
  let rows;
  try {
    const out = await importRegister(file, { as_of: ctx.today() });
    rows = Array.isArray(out) ? out : out.rows;
  } catch (err) {
    say(`这个登记表打不开：${err.zh || err.message || err}`, true);
    return;
  }
  if (rows.length > MAX_IMPORT) {
    say(`这个登记表有 ${rows.length} 行，走访名单一次最多放 ${MAX_IMPORT} 位老人。请按村拆开，每次打开一个村的登记表。`, true);
    return;
  }
  const visits = [];
  const totals = rows.filter((row) => row.total);
  for (const row of rows) {
    if (row.total) continue;   // a 合计 (小计) row: no elder to visit (screening skips it too; said below)
    // everything the register knew (its own cells too, for the export back into the register)
    const v = {
      ...row, id: undefined, visited: row.visited || null, status: row.visited ? "visited" : "todo",
      village: row.village || "", name: row.name || "", note: row.note || "", id_number: row.id_number || "",
      profile: row.profile || {}, source: row.source || { register: file.name, line: row.line },
      questions: row.questions || [], error: row.error || "", summary: "",
    };
    delete v.result;
    if (!v.error) {
      try { v.summary = summaryOf(await ctx.checker.evaluate(profileFor(v))); } catch (err) { v.summary = ""; }
    }
    visits.push(v);
    if (visits.length % 50 === 0) say(`正在查登记表里的老人：已查 ${visits.length} 位，共 ${rows.length - totals.length} 位……`);
  }
  try {
    V.saveMany(visits);
  } catch (err) {
    say("没能保存：这部手机的浏览器存储满了。请先导出、删除一些旧记录，或者打开小一点的登记表。", true);
    return;
  }
  renderList();
  const bad = visits.filter((v) => v.error);
  say(`已从登记表“${file.name}”加入 ${visits.length} 位老人（待走访）。` +
      (bad.length ? `其中 ${bad.length} 行填写有误（第 ${bad.slice(0, 10).map((v) => v.source.line).join("、")} 行${bad.length > 10 ? "等" : ""}），也列在下面，写明了错误，入户时问清楚。` : "") +
      (totals.length ? `第 ${totals.map((row) => row.line).join("、")} 行是合计（小计）行，不是老人，没有放进名单。` : ""));
  $("yl-visits-title").focus();
}

// ---------------------------------------------------------------- set up

export function initVisits(lent) {
  ctx = lent;
  const top = $("yl-visits-top");
  const section = $("yl-visits");
  if (!top || !section) return;   // an older page without the 走访 containers
  top.hidden = false;
  // the buttons after a result, the save box, the banner over the form
  const actions = $("yl-actions");
  // after the single elder's own buttons (打印明白卡, 分享链接, 重新填写), which stay as they were
  actions.append(h("div", { class: "yl-visit-actions" },
    h("p", { class: "yl-hint" }, "村（社区）干部走访用："),
    h("button", { type: "button", class: "yl-button", id: "yl-save-open", onclick: openSaveBox }, "保存这位老人"),
    h("button", { type: "button", class: "yl-button yl-button--plain", id: "yl-next", onclick: nextElder }, "下一位")));
  actions.after(saveBox(), h("p", { id: "yl-saved", class: "yl-saved", role: "status" }));
  $("yl-form").before(h("section", { id: "yl-editing", class: "yl-editing", tabindex: "-1", "aria-label": "正在看的老人", hidden: true }));
  // the print-only containers, beside the single 明白卡
  $("yl-card").after(h("div", { id: "yl-print-all" }), h("div", { id: "yl-print-list" }));
  // the list section
  const keep = h("select", { id: "yl-keep" }, KEEP_CHOICES.map((d) => h("option", { value: String(d) }, `${d} 天`)));
  const days = V.keepDays();
  if (!KEEP_CHOICES.includes(days)) keep.prepend(h("option", { value: String(days) }, `${days} 天`));
  keep.value = String(days);
  keep.addEventListener("change", () => {
    V.setKeepDays(Number(keep.value));
    tell(`好的：记录存满 ${keep.value} 天后，打开本页时会问您还要不要留着。`);
    checkExpiry();
  });
  $("yl-visits-body").replaceChildren(
    h("p", { class: "yl-visits__count" }, h("strong", { id: "yl-visits-count" }), "只存在这部手机的浏览器里，不会发送出去；清除浏览器数据或换手机就没有了。"),
    h("p", { id: "yl-visits-said", class: "yl-visits__said", role: "status" }),
    h("ul", { id: "yl-vlist", class: "yl-vlist", "aria-labelledby": "yl-visits-title" }),
    h("div", { id: "yl-visits-tools", class: "yl-visits__tools" },
      h("h3", {}, "交回村委会、镇里"),
      h("div", { class: "yl-visits__buttons" },
        h("button", { type: "button", class: "yl-button", id: "yl-export-xlsx", onclick: () => exportAs("xlsx") }, "导出 Excel 表（.xlsx）"),
        h("button", { type: "button", class: "yl-button yl-button--plain", id: "yl-export-csv", onclick: () => exportAs("csv") }, "导出 CSV 表")),
      h("p", { class: "yl-hint" }, "导出的表和登记表一样，可以在“批量排摸”页面或命令行再排摸；多了走访日期、应享未享和去哪里申请。"),
      h("div", { class: "yl-visits__buttons" },
        h("button", { type: "button", class: "yl-button yl-button--plain", id: "yl-print-cards", onclick: printAllCards }, "打印全部明白卡"),
        h("button", { type: "button", class: "yl-button yl-button--plain", id: "yl-print-visits", onclick: printList }, "打印走访名单")),
      h("p", { class: "yl-hint" }, "明白卡每位老人一页，留给老人家里；走访名单一页，交给村委会。都不印身份证号。"),
      h("p", { class: "yl-row yl-visits__keep" }, h("label", { for: "yl-keep" }, "记录存多久："), keep),
      h("p", { id: "yl-tools-said", class: "yl-visits__said", role: "status" }),
      h("div", { class: "yl-visits__buttons" },
        h("button", { type: "button", class: "yl-button yl-button--danger", id: "yl-delete-all", onclick: deleteEverything }, "全部删除"))));
  ctx.hooks.answered = (answer) => {
    if (lastSavedAt && lastSavedAt !== answer) $("yl-saved").textContent = currentId ? "改过了：点“保存这位老人”更新记录。" : "";
    $("yl-save-open").textContent = currentId ? "保存这位老人（更新记录）" : "保存这位老人";
  };
  ctx.hooks.cleared = () => { $("yl-save").hidden = true; };
  renderList();
  checkExpiry();
  window.addEventListener("storage", (e) => { if (e.key === V.STORAGE_KEY) renderList(); });
  if (location.hash === IMPORT_HASH) importStashed();
  document.documentElement.dataset.visitsReady = "1";
}
