// The checker page: the form (generated from form.json, i.e. from checker/profile.py), the results,
// the printable personal 明白卡 and the share link. The answer comes from window.yanglaoChecker
// (api.js → worker.mjs → the Python checker); this file only asks and shows.
//
// Privacy: the profile lives in this page's memory. It goes to the worker in this tab, into the
// URL fragment only when the reader asks for a share link, and onto paper only when they print.
import { yanglaoChecker } from "./api.js";
import { initVisits } from "./visits-ui.js";

const HERE = new URL(".", import.meta.url);
const SITE_ROOT = new URL("../../", HERE);
const OTHER = "other";                 // 户籍/常住地 outside the catalogue
const OTHER_CODE = OTHER;              // the profile's own value for a county outside the catalogue:
                                       // 户籍 conditions fail instead of staying unknown
const CORE = ["hukou", "birth", "residence", "economic", "care_level"];
const FIRST_FOLLOWUPS = 5;             // follow-up questions shown before "还有 N 个问题"

// Plain-language questions. Labels and choices themselves come from form.json (checker/profile.py).
const ASK = {
  hukou: "户籍（户口）在哪个县（市、区）？",
  residence: "现在平时住在哪里？",
  economic: "家庭经济状况",
  care_level: "身体状况（能力评估结果）",
  sex: "性别",
  tekun_mode: "特困老人是在家供养还是在机构供养？",
  lives_outside_hukou_town: "平时住的镇（街道）和户口所在的镇（街道）不一样吗？",
  months_at_residence: "在现在住的地方已经住了多久？",
  fixed_residence: "在现在住的地方有固定住所吗？（租房的要有租赁合同）",
  island_relocated: "是从小岛（离岛）搬到大岛（本岛）住的吗？",
  relocated_on: "哪一天搬过去的？",
  per_capita_income: "家里每人每月平均收入大约多少元？",
  dementia: "有失智（老年痴呆）吗？",
  disability_grade: "残疾人证上写的残疾等级",
  has_disability_card: "有残疾人证吗？",
  disability_type: "残疾类别",
  family_planning_special: "是计划生育特殊家庭吗？（独生子女去世或伤残的家庭）",
  living: "平时和谁一起住？",
  no_supporter: "没有子女等法定赡养人，或者他们没有赡养能力吗？",
  military: "有下面的优抚身份吗？（可以多选）",
  state_pension_for_entitled: "享受国家定期抚恤补助吗？",
  rural_veteran_soldier: "是部分农村籍退役士兵吗？",
  heroic_injury: "是因为见义勇为受伤致残的吗？",
  employee_pension: "领职工养老金吗？（参加职工基本养老保险并到了领取条件）",
  resident_pension: "领城乡居民养老金吗？（参加城乡居民基本养老保险并到了领取条件）",
  resident_medical: "参加了城乡居民基本医疗保险吗？",
  in_institution: "已经住在养老院（养老机构）里了吗？",
  homeless: "是生活无着的流浪、乞讨人员吗？",
  retrofit_done: "家里做过适老化改造或“无障碍设施进家庭”改造吗？",
  chronic: "有下面的慢性病吗？（可以多选）",
  child_hukou: "成年子女的户籍在哪个县（市）？",
  lives_with_child_in_town: "和城镇户口的成年子女住在一起吗？",
};
const HINT = {
  economic: "以民政部门认定的为准。低保、低边、特困的老人能多享受不少服务。",
  care_level: "指“老年人能力综合评估”的结果。没评估过的选“不知道”，很多县可以免费评估。",
};
const STAGE_TEXT = {
  runtime: "正在下载查询程序，第一次约4MB，以后不用再下载",
  packages: "正在装入各县的服务目录",
  checker: "马上就好",
};
const STATUS = [
  ["eligible", "可以享受"],
  ["maybe", "可能可以"],
  ["upcoming", "以后可以"],
  ["ineligible", "不符合"],
];

const $ = (id) => document.getElementById(id);
let form = null;             // form.json
let counties = new Map();    // code → county
const values = {};           // field → known value (unknowns are absent)
let lastAnswer = null;
let lastProfile = null;
let ready = false;
let failed = null;
const followups = new Map(); // field → element, in the order shown
let showAllFollowups = false;
let uid = 0;
const visitHooks = {};       // visits-ui.js: answered(answer, profile), cleared()

// ---------------------------------------------------------------- tiny DOM helper

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

const nextId = (name) => `yl-${name}-${++uid}`;
const today = () => {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
};
const ymd = (iso) => {
  const [y, m, d] = iso.split("-").map(Number);
  return `${y}年${m}月${d}日`;
};
const siteURL = (path) => new URL(path, SITE_ROOT).href;

// ---------------------------------------------------------------- controls

function radios(name, question, choices, { hint, unknown = "不知道" } = {}) {
  const legend = h("legend", {}, question);
  const box = h("div", { class: "yl-choices" });
  const group = `yl-${name}`;
  const all = unknown ? [...choices, ["", unknown]] : choices;
  for (const [value, text] of all) {
    const input = h("input", { type: "radio", name: group, value: String(value), "data-field": name });
    input.addEventListener("change", () => set(name, value === "" ? undefined : value));
    box.append(h("label", { class: "yl-choice" }, input, h("span", {}, text)));
  }
  const hintEl = hint ? h("p", { class: "yl-hint" }, hint) : null;
  const fs = h("fieldset", { class: "yl-q", "data-field": name }, legend, hintEl, box);
  fs.sync = () => {
    for (const input of box.querySelectorAll("input")) {
      const v = values[name];
      input.checked = v === undefined ? input.value === "" && fs.dataset.touched === "1" : input.value === String(v);
    }
  };
  box.addEventListener("change", () => { fs.dataset.touched = "1"; });
  return fs;
}

function checkboxes(name, question, choices) {
  const box = h("div", { class: "yl-choices" });
  const group = `yl-${name}`;
  const none = h("input", { type: "checkbox", name: group, value: "", "data-field": name });
  const update = (changed) => {
    const boxes = [...box.querySelectorAll("input")];
    if (changed === none && none.checked) boxes.forEach((b) => { if (b !== none) b.checked = false; });
    if (changed !== none && changed.checked) none.checked = false;
    const picked = boxes.filter((b) => b !== none && b.checked).map((b) => choiceValue(name, b.value));
    set(name, picked.length ? picked : none.checked ? [] : undefined);
  };
  for (const [value, text] of choices) {
    const input = h("input", { type: "checkbox", name: group, value: String(value), "data-field": name });
    input.addEventListener("change", () => update(input));
    box.append(h("label", { class: "yl-choice" }, input, h("span", {}, text)));
  }
  none.addEventListener("change", () => update(none));
  box.append(h("label", { class: "yl-choice" }, none, h("span", {}, "都没有")));
  const fs = h("fieldset", { class: "yl-q", "data-field": name }, h("legend", {}, question), box);
  fs.sync = () => {
    const v = values[name];
    for (const input of box.querySelectorAll("input")) {
      input.checked = input === none ? Array.isArray(v) && v.length === 0 : Array.isArray(v) && v.map(String).includes(input.value);
    }
  };
  return fs;
}

function countySelect(name, question, { hint } = {}) {
  const id = nextId(name);
  const select = h("select", { id, "data-field": name },
    h("option", { value: "" }, "请选择"),
    form.counties.map((c) => h("option", { value: c.code }, `${c.name}（${c.prefecture}）`)),
    h("option", { value: OTHER }, "其他地方（不在上面）"));
  select.addEventListener("change", () => set(name, select.value || undefined));
  const wrap = h("div", { class: "yl-q", "data-field": name },
    h("label", { for: id, class: "yl-label" }, question), hint ? h("p", { class: "yl-hint" }, hint) : null, select);
  wrap.sync = () => { select.value = values[name] ?? ""; };
  return wrap;
}

function numberInput(name, question, unit, { min = 0, max = 100000, decimals = false } = {}) {
  const id = nextId(name);
  const input = h("input", { id, type: "text", inputmode: decimals ? "decimal" : "numeric", "data-field": name,
                             autocomplete: "off", class: "yl-number", "aria-describedby": `${id}-unit` });
  const error = h("p", { class: "yl-error", id: `${id}-error`, hidden: true });
  const read = () => {
    const text = input.value.trim().replace(/[，,]/g, "");
    if (!text) { error.hidden = true; return set(name, undefined); }
    const n = Number(text);
    const ok = Number.isFinite(n) && n >= min && n <= max && (decimals || Number.isInteger(n));
    error.hidden = ok;
    error.textContent = ok ? "" : `请填${decimals ? "" : "整"}数，${min}到${max}之间。`;
    input.setAttribute("aria-invalid", ok ? "false" : "true");
    set(name, ok ? n : undefined);
  };
  input.addEventListener("input", debounce(read, 250));
  input.addEventListener("change", read);
  const wrap = h("div", { class: "yl-q", "data-field": name },
    h("label", { for: id, class: "yl-label" }, question),
    h("div", { class: "yl-row" }, input, h("span", { id: `${id}-unit`, class: "yl-unit" }, unit)), error);
  wrap.sync = () => { input.value = values[name] ?? ""; error.hidden = true; };
  return wrap;
}

function monthsInput(name, question) {
  // 在常住地已居住月数, asked as years and months
  const yid = nextId(name), mid = nextId(name);
  const years = h("input", { id: yid, type: "text", inputmode: "numeric", class: "yl-number yl-number--short",
                             "data-field": name, autocomplete: "off" });
  const months = h("select", { id: mid, "data-field": name }, h("option", { value: "" }, "—"),
    Array.from({ length: 12 }, (_, i) => h("option", { value: String(i) }, String(i))));
  const read = () => {
    const y = years.value.trim(), m = months.value;
    if (!y && !m) return set(name, undefined);
    const yn = y ? Number(y) : 0, mn = m ? Number(m) : 0;
    if (!Number.isInteger(yn) || yn < 0 || yn > 120) return set(name, undefined);
    set(name, yn * 12 + mn);
  };
  years.addEventListener("input", debounce(read, 250));
  months.addEventListener("change", read);
  const wrap = h("fieldset", { class: "yl-q", "data-field": name }, h("legend", {}, question),
    h("div", { class: "yl-row" }, years, h("label", { for: yid, class: "yl-unit" }, "年"),
      months, h("label", { for: mid, class: "yl-unit" }, "个月")));
  wrap.sync = () => {
    const v = values[name];
    years.value = v === undefined ? "" : String(Math.floor(v / 12));
    months.value = v === undefined ? "" : String(v % 12);
  };
  return wrap;
}

function dateInput(name, question, { withAge = false } = {}) {
  // A date as 年 (typed, 4 digits) + 月 + 日 (chosen): easier on a phone than a calendar picker
  // that starts in this year when the elder was born eighty years ago.
  const yid = nextId(name), mid = nextId(name), did = nextId(name), aid = nextId("age");
  const year = h("input", { id: yid, type: "text", inputmode: "numeric", maxlength: "4", class: "yl-number yl-number--year",
                            placeholder: "如1945", autocomplete: "off", "data-field": name, "data-part": "year" });
  const month = h("select", { id: mid, "data-field": name, "data-part": "month" }, h("option", { value: "" }, "—"),
    Array.from({ length: 12 }, (_, i) => h("option", { value: String(i + 1) }, String(i + 1))));
  const day = h("select", { id: did, "data-field": name, "data-part": "day" }, h("option", { value: "" }, "—"),
    Array.from({ length: 31 }, (_, i) => h("option", { value: String(i + 1) }, String(i + 1))));
  const error = h("p", { class: "yl-error", hidden: true, role: "alert" });
  const age = withAge ? h("input", { id: aid, type: "text", inputmode: "numeric", maxlength: "3", class: "yl-number yl-number--short",
                                     autocomplete: "off", "data-field": "age" }) : null;
  const read = () => {
    const y = year.value.trim(), m = month.value, d = day.value;
    let problem = "";
    let iso;
    if (y || m || d) {
      const yn = Number(y), mn = Number(m), dn = Number(d);
      if (!/^\d{4}$/.test(y) || yn < 1890) problem = "年份请填4位数字，例如1945。";
      else if (!m || !d) problem = "请把月和日也选上。";
      else {
        const date = new Date(Date.UTC(yn, mn - 1, dn));
        if (date.getUTCMonth() !== mn - 1) problem = `${yn}年${mn}月没有${dn}日，请检查。`;
        else {
          iso = `${y}-${String(mn).padStart(2, "0")}-${String(dn).padStart(2, "0")}`;
          if (iso > today()) { problem = "这个日期还没到，请检查。"; iso = undefined; }
        }
      }
    }
    // only complain once the reader has moved on or typed the whole year
    const show = problem && (y.length === 4 || document.activeElement !== year);
    error.hidden = !show;
    error.textContent = show ? problem : "";
    year.setAttribute("aria-invalid", show ? "true" : "false");
    set(name, iso, { quiet: true });
    if (age) {
      const a = age.value.trim();
      const an = Number(a);
      age.disabled = iso !== undefined;
      set("age", !iso && a && Number.isInteger(an) && an >= 0 && an <= 130 ? an : undefined, { quiet: true });
    }
    changed();
  };
  year.addEventListener("input", debounce(read, 300));
  year.addEventListener("change", read);
  month.addEventListener("change", read);
  day.addEventListener("change", read);
  if (age) age.addEventListener("input", debounce(read, 300));
  const parts = h("div", { class: "yl-row yl-date" },
    h("span", { class: "yl-part" }, year, h("label", { for: yid, class: "yl-unit" }, "年")),
    h("span", { class: "yl-part" }, month, h("label", { for: mid, class: "yl-unit" }, "月")),
    h("span", { class: "yl-part" }, day, h("label", { for: did, class: "yl-unit" }, "日")));
  const wrap = h("fieldset", { class: "yl-q", "data-field": name }, h("legend", {}, question), parts, error,
    age ? h("p", { class: "yl-row yl-age" }, h("label", { for: aid }, "不知道出生日期，只知道年龄："), age, h("span", { class: "yl-unit" }, "周岁")) : null);
  wrap.sync = () => {
    const v = values[name];
    if (v) {
      const [y, m, d] = v.split("-");
      year.value = y; month.value = String(Number(m)); day.value = String(Number(d));
    } else { year.value = ""; month.value = ""; day.value = ""; }
    if (age) { age.value = values.age ?? ""; age.disabled = Boolean(v); }
    error.hidden = true;
  };
  return wrap;
}

function residenceControl() {
  // 常住地: the same county as 户籍 (the usual case) or another one.
  const name = "residence";
  const select = countySelect("residence_other", "住在哪个县（市、区）？");
  select.hidden = true;
  const fs = radios("residence_where", ASK.residence,
    [["same", "住在户籍所在县"], ["away", "住在别的县（市、区）"]], { unknown: null });
  fs.dataset.field = name;
  fs.append(select);
  const sel = select.querySelector("select");
  fs.querySelectorAll("input").forEach((input) => input.addEventListener("change", () => {
    values.residence_where = input.value;
    select.hidden = input.value !== "away";
    changed();
  }));
  sel.addEventListener("change", () => { values.residence_other = sel.value || undefined; changed(); });
  fs.sync = () => {
    const where = values.residence_where;
    fs.querySelectorAll("input[type=radio]").forEach((i) => { i.checked = i.value === where; });
    select.hidden = where !== "away";
    sel.value = values.residence_other ?? "";
  };
  return fs;
}

function control(name) {
  if (name === "birth") return dateInput("birth_date", "出生日期", { withAge: true });
  if (name === "residence") return residenceControl();
  const field = form.fields[name];
  const question = ASK[name] || field.label;
  if (name === "hukou") return countySelect(name, question, { hint: "本查询目前收录这些县。户籍在别处、住在这些县的老人选“其他地方”。" });
  if (name === "months_at_residence") return monthsInput(name, question);
  switch (field.kind) {
    case "bool": return radios(name, question, [[true, "是"], [false, "不是"]]);
    case "enum": return radios(name, question, field.choices, { hint: HINT[name] });
    case "enum_list": return checkboxes(name, question, field.choices);
    case "county": return countySelect(name, question);
    case "date": return dateInput(name, question);
    case "int": return numberInput(name, question, "", { min: field.min ?? 0, max: field.max ?? 10000 });
    case "number": return numberInput(name, question, "元/月", { decimals: true });
    default: return null;
  }
}

function choiceValue(name, text) {
  const field = form.fields[name];
  const match = (field.choices || []).find(([v]) => String(v) === text);
  return match ? match[0] : text;
}

// ---------------------------------------------------------------- state → profile → answer

function set(name, value, { quiet = false } = {}) {
  if (value === undefined || value === null) delete values[name];
  else values[name] = typeof value === "string" && name in form.fields ? choiceValue(name, value) : value;
  if (value === true || value === false) values[name] = value;
  if (!quiet) changed();
}

// <html data-answering> is there from a change of the form until the answer to it is drawn (a debounced
// read or evaluation still to come, or one running): tests wait for it to go instead of guessing a delay.
let busyCount = 0;
function busy(step) {
  busyCount = Math.max(0, busyCount + step);
  if (busyCount) document.documentElement.dataset.answering = "1";
  else delete document.documentElement.dataset.answering;
}

function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    if (t === null) busy(1);
    clearTimeout(t);
    t = setTimeout(async () => {
      t = null;
      try { await fn(...args); } finally { busy(-1); }
    }, ms);
  };
}

function profile() {
  const p = { as_of: today() };
  for (const [name, value] of Object.entries(values)) {
    if (Object.hasOwn(form.fields, name) && name !== "residence") p[name] = value;
  }
  if (p.hukou === OTHER) p.hukou = OTHER_CODE;
  if (p.child_hukou === OTHER) p.child_hukou = OTHER_CODE;
  if (values.residence_where === "same" && p.hukou) p.residence = p.hukou;
  if (values.residence_where === "away" && values.residence_other) {
    p.residence = values.residence_other === OTHER ? OTHER_CODE : values.residence_other;
  }
  return p;
}

let evalSeq = 0;
const changed = debounce(run, 60);

async function run() {
  const p = profile();
  if (!p.hukou && !p.residence) {
    showMessage("选好户籍所在县、填好出生日期，这里就会显示结果。");
    return;
  }
  if (p.hukou === OTHER_CODE && (!p.residence || p.residence === OTHER_CODE)) {
    showMessage(values.residence_where === "away" && values.residence_other ? nothingHere() :
      "户籍不在这些县的老人：请在“现在平时住在哪里？”选“住在别的县”，再选住的县。");
    return;
  }
  if (failed) return;
  if (!ready) {
    $("yl-summary").textContent = "正在准备查询程序，准备好就马上显示结果……";
    return;
  }
  const seq = ++evalSeq;
  try {
    const answer = await yanglaoChecker.evaluate(p);
    if (seq !== evalSeq) return;
    lastAnswer = answer;
    lastProfile = p;
    render(answer, p);
    updateFollowups(answer);
    visitHooks.answered?.(answer, p);
  } catch (err) {
    if (seq !== evalSeq) return;
    const label = err.field && form.fields[err.field] ? form.fields[err.field].label : "";
    showMessage(`${label ? label + "：" : ""}${err.zh || err.message}`, true);
  }
}

function nothingHere() {
  return h("span", {}, "本查询目前只收录下面这些县的服务：",
    form.counties.map((c, i) => [i ? "、" : "", h("a", { href: siteURL(c.url) }, c.name)]),
    "。户籍和常住地都不在这些县的老人，请向当地民政部门或拨打12345咨询。");
}

function showMessage(content, isError = false) {
  lastAnswer = null;
  const summary = $("yl-summary");
  summary.replaceChildren(content instanceof Node ? content : document.createTextNode(content));
  summary.classList.toggle("yl-error", isError);
  $("yl-groups").replaceChildren();
  $("yl-actions").hidden = true;
  $("yl-share-box").hidden = true;
  visitHooks.cleared?.();
  document.documentElement.classList.remove("yl-has-card");
}

// ---------------------------------------------------------------- follow-up questions

function updateFollowups(answer) {
  const section = $("yl-more");
  const box = $("yl-followups");
  const asked = (answer.questions || []).filter((q) => !CORE.includes(q) && q !== "birth_date" && q !== "age"
                                                     && q !== "residence" && q !== "hukou" && q in form.fields);
  // drop questions nobody needs any more (unless answered, or the reader is in them)
  for (const [name, el] of followups) {
    if (!asked.includes(name) && values[name] === undefined && !el.contains(document.activeElement)) {
      el.remove();
      followups.delete(name);
    }
  }
  const limit = showAllFollowups ? Infinity : FIRST_FOLLOWUPS;
  let shownUnanswered = [...followups.keys()].filter((n) => values[n] === undefined).length;
  for (const name of asked) {
    if (followups.has(name)) continue;
    if (shownUnanswered >= limit) break;
    const el = control(name);
    if (!el) continue;
    el.sync?.();
    followups.set(name, el);
    box.append(el);
    shownUnanswered++;
  }
  const hiddenCount = asked.filter((n) => !followups.has(n)).length;
  const eligible = (answer.results || []).filter((r) => r.status === "eligible").length;
  $("yl-jump").textContent = `先看结果：可以享受${eligible}项 ↓`;
  const more = $("yl-more-button");
  more.hidden = hiddenCount === 0;
  more.textContent = `还有${hiddenCount}个问题，也回答一下`;
  section.hidden = followups.size === 0;
}

// ---------------------------------------------------------------- results

function fieldLabel(name) {
  return form.fields[name] ? form.fields[name].label : name;
}

function applyBadge(r) {
  if (r.apply === "automatic") return h("span", { class: "yl-badge yl-badge--auto" }, "不用申请");
  if (r.apply === "unknown") return h("span", { class: "yl-badge yl-badge--unknown" }, "文件没写要不要申请");
  return h("span", { class: "yl-badge yl-badge--apply" }, "需要申请");
}

// What the document says beyond the checked conditions, and where our answer rests on our own
// reading of it: shown on every card that is not 不符合 (issue 11).
function documentNotes(r) {
  const out = [];
  if (r.also && r.also.length) out.push(h("p", { class: "yl-also" }, h("strong", {}, "另需："), r.also.join("；")));
  if (r.doubts && r.doubts.length) out.push(h("p", { class: "yl-doubt" }, h("strong", {}, "为什么说不准："), r.doubts.join(" ")));
  if (r.apply === "unknown" && !(r.where || "").includes("要不要申请")) out.push(h("p", { class: "yl-ask" }, `文件没有写要不要申请，请先问：${r.ask || "当地乡镇（街道）或12345"}。`));
  else if ((r.doubts && r.doubts.length) && r.ask) out.push(h("p", { class: "yl-ask" }, `请问：${r.ask}。`));
  if (r.apply_note) out.push(h("p", { class: "yl-apply-note" }, r.apply_note));
  if (r.amount && r.amount.next_change) out.push(h("p", { class: "yl-next" }, r.amount.next_change.text));
  if (r.basis_doc) out.push(h("p", { class: "yl-source" }, "依据：", r.basis_doc));
  if (r.readings && r.readings.length) {
    out.push(h("details", { class: "yl-readings" }, h("summary", {}, "哪些是本页的理解（文件没有明写）"),
      h("ul", {}, r.readings.map((x) => h("li", {}, `${x.label}：${x.kind_text}。${x.text}`)))));
  }
  return out;
}

const cardId = (sid) => `yl-r-${sid}`;

// A card is short until opened (issue 18): name, amount, the apply badge with where; the rest
// (steps, 不重复享受, 另需, source) opens on tap. The printed 明白卡 carries the whole answer.
function resultCard(r, multiCounty) {
  const title = h("h4", { class: "yl-card__title" },
    h("a", { href: siteURL(r.url) }, r.name), multiCounty ? h("span", { class: "yl-county" }, `（${r.county_name}）`) : null);
  const body = [];
  const more = [];
  if (r.status === "eligible" || r.status === "upcoming") {
    if (r.amount && r.amount.text) body.push(h("p", { class: "yl-amount" }, r.amount.text));
    if (r.status === "upcoming") body.push(h("p", { class: "yl-when" }, r.from ? `${ymd(r.from)}起可以享受。` : "以后可以享受。"));
    body.push(h("p", { class: "yl-apply" }, applyBadge(r), " ", r.where || ""));
    for (const n of r.next || []) more.push(h("p", { class: "yl-next" }, n.text));
    if (r.away) more.push(h("p", { class: "yl-away" }, "住在外地：", typeof r.away === "string" ? r.away : r.away.text || ""));
    more.push(...documentNotes(r));
  } else if (r.status === "maybe") {
    const missing = (r.missing || []).map(fieldLabel);
    if (missing.length) body.push(h("p", { class: "yl-missing" }, "还要弄清楚：", missing.join("、")));
    if (r.amount && r.amount.text) body.push(h("p", { class: "yl-amount yl-amount--small" }, "如果符合：", r.amount.text));
    // a maybe never says 不用申请 alone: the note says the status behind it must be obtained first
    if (r.apply !== "automatic" || !r.apply_note) body.push(h("p", { class: "yl-apply" }, applyBadge(r), " ", r.where || ""));
    more.push(h("p", {}, r.summary || ""));
    more.push(...documentNotes(r));
  } else {
    const reasons = (r.why || []).filter((w) => w.includes("✗"));
    body.push(h("p", { class: "yl-why" }, "没满足的条件：", (reasons.length ? reasons : r.why || []).map((w) => w.replace(/\s*✗.*$/, "")).join("；"), "。"));
  }
  const others = (r.exclusive_with || []);
  if (others.length && r.status !== "ineligible") {
    for (const o of others) {
      more.push(h("p", { class: "yl-exclusive" }, `不能和“${o.name}”同时享受${o.text ? "：" + o.text.replace(/。$/, "") : ""}。`));
    }
  }
  if (more.length) {
    body.push(h("details", { class: "yl-result__more" }, h("summary", {}, "详细：怎么办、不能同时享受、依据"), more));
  }
  return h("article", { class: `yl-result yl-result--${r.status}`, id: cardId(r.service), "data-service": r.service, "data-status": r.status }, title, body);
}

// ---------------------------------------------------------------- the first screen (issue 18)
// What to do, in the engine's order (answer.plan: the catalogue's for/benefit decide), one line each.

const firstClause = (text) => {
  const s = String(text || "");
  const cut = s.search(/[；;。]/);
  return cut > 0 ? s.slice(0, cut) : s;
};
// where to go, for the first screen: the first sentence, and of a long one the clause that names the place
const whereShort = (r) => {
  let s = firstClause(r.where).replace(/（[^（）]*\d+号[^（）]*）/g, "");   // a street address in brackets: on the card
  const comma = s.indexOf("，");
  if (s.length > 16 && comma >= 6 && /[到向去在]/.test(s.slice(0, comma))) s = s.slice(0, comma);
  if (s.length > 26 && !/\d{5,}/.test(s)) {   // still long, and no telephone number to keep: the rest is on the card
    const cut = Math.max(...["，", "、", "或"].map((c) => s.lastIndexOf(c, 26)));
    s = `${s.slice(0, cut >= 10 ? cut : 24)}…`;
  }
  return s;
};
const shortAmount = (r) => {
  const t = firstClause(r.amount && r.amount.text);
  return t && t.length <= 24 && !t.startsWith(r.name) ? t : "";   // not 护理补贴：护理补贴（文件未写金额）
};

// whom a line is for, where not the elder herself (the catalogue's `for`)
const FOR_TEXT = { family: "（给家人的）", after_death: "（老人去世后，家人办）" };

function planLine(r, extra) {
  return h("li", { class: "yl-plan__item", "data-plan": r.service },
    h("a", { href: `#${cardId(r.service)}`, class: "yl-plan__name" }, r.name), extra);
}

function firstScreen(answer, byId) {
  const plan = answer.plan || [];
  const group = (g) => plan.find((x) => x.group === g);
  const out = [];
  const total = answer.monthly_total || {};
  const counted = (total.services || []).map((s) => byId.get(s)).filter(Boolean);
  out.push(h("p", { class: "yl-money" }, "每月能领：", h("strong", {}, total.yuan ? total.text.replace(/^每月/, "") : "没有算出按月领的钱"),
    counted.length ? `（${counted.map((r) => r.name).join("、")}）` : ""));
  const notCounted = total.not_counted || [];
  if (notCounted.length) {
    const byWhy = new Map();
    for (const x of notCounted) byWhy.set(x.why, [...(byWhy.get(x.why) || []), x.name]);
    out.push(h("p", { class: "yl-money-note" }, "没有算进去：", [...byWhy].map(([why, names]) => `${[...new Set(names)].join("、")}（${why}）`).join("；"), "。"));
  }
  const todo = group("apply");
  if (todo) {
    const either = new Map((todo.either || []).map((e) => [e.services[0], e.text]));
    const unknown = todo.services.map((s) => byId.get(s)).filter((r) => r.apply === "unknown");
    out.push(h("h3", { id: "yl-todo-title" }, `要去办的事（${todo.services.length}项）`));
    out.push(h("ol", { class: "yl-plan yl-plan--todo", "aria-labelledby": "yl-todo-title" }, todo.services.map((sid) => {
      const r = byId.get(sid);
      const amount = shortAmount(r);
      return planLine(r, [FOR_TEXT[r.for] || (amount ? `：${amount}` : ""),
        r.apply === "unknown" ? "（先问）" : h("span", { class: "yl-plan__where" }, `去哪里办：${whereShort(r)}`),
        either.has(sid) ? h("span", { class: "yl-plan__either" }, either.get(sid).length <= 40 ? either.get(sid)
          : `和${todo.either.find((e) => e.services[0] === sid).services.slice(1).map((s) => `“${byId.get(s).name}”`).join("、")}只能选一项`) : null]);
    })));
    if (unknown.length) {
      out.push(h("p", { class: "yl-plan__ask" }, `标“先问”的，文件没写要不要申请，请问：${unknown[0].ask || "当地乡镇（街道）或12345"}。`));
    }
    out.push(h("div", { class: "yl-plan__actions" },
      h("button", { type: "button", class: "yl-button", id: "yl-print-todo", onclick: printTodo }, "只打印要去办的事"),
      h("button", { type: "button", class: "yl-button yl-button--plain", id: "yl-share-todo", onclick: () => shareTodo(answer, byId) }, "把要去办的事发给家人"),
      h("span", { class: "yl-hint", id: "yl-share-todo-done", "aria-live": "polite" })));
  }
  const auto = group("automatic");
  if (auto) {
    out.push(h("p", { class: "yl-plan__auto" }, h("strong", {}, "这些不用申请，会自动给您："),
      auto.services.map((sid, i) => {
        const r = byId.get(sid);
        const amount = shortAmount(r);
        return [i ? "、" : "", h("a", { href: `#${cardId(sid)}`, "data-plan": sid }, r.name), amount ? `（${amount}）` : ""];
      }), "。"));
  }
  const maybe = group("maybe");
  if (maybe) {
    out.push(h("h3", { id: "yl-maybe-title" }, `可能可以（${maybe.services.length}项），问清楚就知道`));
    out.push(h("ul", { class: "yl-plan yl-plan--maybe", "aria-labelledby": "yl-maybe-title" }, maybe.services.map((sid) => {
      const r = byId.get(sid);
      const q = (r.missing || []).map((m) => ASK[m] || `${fieldLabel(m)}？`);
      return planLine(r, `${FOR_TEXT[r.for] || ""}：${q.length ? q.join(" ") : "文件没写清楚，要去问"}`);
    })));
  }
  const later = group("upcoming");
  if (later) {
    out.push(h("h3", { id: "yl-later-title" }, `以后可以（${later.services.length}项）`));
    out.push(h("ul", { class: "yl-plan yl-plan--later", "aria-labelledby": "yl-later-title" }, later.services.map((sid) => {
      const r = byId.get(sid);
      return planLine(r, `：${r.from ? ymd(r.from) + "起" : "以后"}${shortAmount(r) ? "，" + shortAmount(r) : ""}`);
    })));
  }
  out.push(h("p", { class: "yl-hint" }, "点名字看下面的详细说明。"));
  return h("section", { class: "yl-first", id: "yl-first", "aria-label": "先看这里：钱和要去办的事" }, out);
}

function todoText(answer, byId) {
  const todo = (answer.plan || []).find((x) => x.group === "apply");
  if (!todo) return "";
  const lines = todo.services.map((sid, i) => {
    const r = byId.get(sid);
    return `${i + 1}. ${r.name}${shortAmount(r) ? "：" + shortAmount(r) : ""}。${r.apply === "unknown" ? "文件没写要不要申请，先问" : "去哪里办：" + r.where}`;
  });
  return [`要去办的事（${ymd(answer.as_of)}查询）`, ...lines].join("\n");
}

function printTodo() {
  const root = document.documentElement;
  root.classList.add("yl-print-todo");
  let restored = false;
  const done = () => {
    if (restored) return;
    restored = true;
    root.classList.remove("yl-print-todo");
    window.removeEventListener("afterprint", done);
    document.removeEventListener("pointerdown", done, true);
    document.removeEventListener("keydown", done, true);
  };
  // back to the whole 明白卡 after the print, or at the next touch or key: a phone's print preview
  // may open after window.print() returns, so no timer takes the view away before it is printed
  // (as the 走访 list's print: visits-ui.js)
  window.addEventListener("afterprint", done);
  setTimeout(() => {
    document.addEventListener("pointerdown", done, true);
    document.addEventListener("keydown", done, true);
  }, 0);
  if (!window.yanglaoNoPrintDialog) window.print();
}

async function shareTodo(answer, byId) {
  const text = todoText(answer, byId);
  const say = (msg) => { $("yl-share-todo-done").textContent = msg; };
  try {
    if (navigator.share) { await navigator.share({ title: "要去办的事", text }); say("已打开分享。"); return; }
    await navigator.clipboard.writeText(text);
    say("已复制，可以粘贴到微信里发给家人。");
  } catch {
    say("没能分享。可以点“只打印要去办的事”，打印出来带去。");
  }
}

function exclusiveGroups(list) {
  // eligible services that exclude one another: shown together as 二选一
  const ids = new Set(list.map((r) => r.service));
  const parent = new Map(list.map((r) => [r.service, r.service]));
  const find = (x) => (parent.get(x) === x ? x : find(parent.get(x)));
  for (const r of list) for (const o of r.exclusive_with || []) {
    if (ids.has(o.service)) parent.set(find(o.service), find(r.service));
  }
  const groups = new Map();
  for (const r of list) {
    const root = find(r.service);
    if (!groups.has(root)) groups.set(root, []);
    groups.get(root).push(r);
  }
  return [...groups.values()];
}

function render(answer, p) {
  const results = answer.results || [];
  const multiCounty = new Set(results.map((r) => r.county)).size > 1;
  const rank = (r) => (typeof r.rank === "number" ? r.rank : 1e9);
  const by = Object.fromEntries(STATUS.map(([s]) => [s, results.filter((r) => r.status === s).sort((a, b) => rank(a) - rank(b))]));
  const byId = new Map(results.map((r) => [r.service, r]));
  const eitherText = new Map((answer.plan || []).flatMap((g) => (g.either || []).map((e) => [e.services[0], e.text])));
  const groups = results.some((r) => r.status !== "ineligible") ? [firstScreen(answer, byId)] : [];
  for (const [status, title] of STATUS) {
    const list = by[status];
    if (!list.length) continue;
    const headingId = nextId(`h-${status}`);
    const heading = h("h3", { id: headingId }, `${title}（${list.length}项）`);
    const intro = {
      eligible: answer.monthly_total && answer.monthly_total.yuan ? h("p", { class: "yl-total" }, `按月领的钱合计：${answer.monthly_total.text}`) : null,
      maybe: h("p", { class: "yl-hint" }, "还差一些情况不清楚。回答上面的问题，或者向村（社区）、乡镇（街道）问清楚。"),
      upcoming: h("p", { class: "yl-hint" }, "现在年龄或时间还不够，到了日子就可以。"),
      ineligible: null,
    }[status];
    const cards = [];
    if (status === "eligible") {
      for (const group of exclusiveGroups(list)) {
        if (group.length > 1) {
          cards.push(h("div", { class: "yl-either", role: "group", "aria-label": "二选一" },
            h("p", { class: "yl-either__title" }, eitherText.get(group[0].service) || "二选一：下面几项只能享受其中一项"),
            group.map((r) => resultCard(r, multiCounty))));
        } else cards.push(resultCard(group[0], multiCounty));
      }
    } else {
      for (const r of list) cards.push(resultCard(r, multiCounty));
    }
    const section = h("section", { class: `yl-group yl-group--${status}`, "aria-labelledby": headingId });
    if (status === "ineligible") {
      section.append(h("details", {}, h("summary", {}, heading, h("span", { class: "yl-hint" }, "点开看原因")), cards));
    } else {
      section.append(...[heading, intro, ...cards].filter(Boolean));
    }
    groups.push(section);
  }
  for (const note of answer.notes || []) {
    if (!note.includes(OTHER_CODE)) groups.push(h("p", { class: "yl-hint" }, note));
  }
  $("yl-groups").replaceChildren(...groups);
  const summary = $("yl-summary");
  summary.classList.remove("yl-error");
  const parts = STATUS.filter(([s]) => s !== "ineligible" && by[s].length).map(([s, t]) => `${t}${by[s].length}项`);
  summary.textContent = results.length
    ? `结果（${ymd(answer.as_of)}）：${parts.join("，") || "暂时没有找到可以享受的服务"}。`
    : "没有找到这个县的服务。";
  $("yl-actions").hidden = !results.length;
  renderCard(answer, p);
}

// ---------------------------------------------------------------- the printed 明白卡

function describe(p) {
  const out = [];
  const county = (code) => (code === OTHER_CODE ? "其他地方" : counties.get(code)?.name || code);
  if (p.hukou) out.push(`户籍：${county(p.hukou)}`);
  if (p.residence && p.residence !== p.hukou) out.push(`住在：${county(p.residence)}`);
  if (p.birth_date) out.push(`出生：${ymd(p.birth_date)}`);
  else if (p.age !== undefined) out.push(`年龄：${p.age}周岁`);
  for (const name of ["economic", "care_level"]) {
    if (p[name] !== undefined) {
      const choice = (form.fields[name].choices || []).find(([v]) => v === p[name]);
      out.push(`${form.fields[name].label}：${choice ? choice[1] : p[name]}`);
    }
  }
  return out.join("　");
}

// The 明白卡 of one answer: into the page's own #yl-card (printed by 打印明白卡), or into `card`
// (打印全部明白卡, visits-ui.js) with `who` (a saved visit's name and village) on top; never the ID number.
function renderCard(answer, p, card = $("yl-card"), who = "") {
  const results = answer.results || [];
  const eligible = results.filter((r) => r.status === "eligible");
  const upcoming = results.filter((r) => r.status === "upcoming");
  const maybe = results.filter((r) => r.status === "maybe");
  const codes = [...new Set(results.map((r) => r.county))];
  // the engine's order (answer.plan), as on the screen
  const rank = (r) => (typeof r.rank === "number" ? r.rank : 1e9);
  const ranked = [...eligible].sort((a, b) => rank(a) - rank(b));
  upcoming.sort((a, b) => rank(a) - rank(b));
  maybe.sort((a, b) => rank(a) - rank(b));
  // what comes by itself, in one list; what the elder must go and ask for, with where to go
  const automatic = ranked.filter((r) => r.apply === "automatic");
  const toApply = ranked.filter((r) => r.apply !== "automatic");
  const eligibleIds = new Set(eligible.map((r) => r.service));
  const either = (r) => {
    const others = (r.exclusive_with || []).filter((o) => eligibleIds.has(o.service)).map((o) => `“${o.name}”`);
    return others.length ? h("strong", { class: "yl-card__either" }, `（二选一：和${others.join("、")}只能选一项）`) : null;
  };
  const also = (r) => (r.also && r.also.length ? h("span", { class: "yl-card__also" }, `（另需：${r.also.join("；")}）`) : null);
  const autoItems = automatic.map((r) => h("li", {}, h("strong", {}, r.name), r.amount?.text ? `：${r.amount.text}` : "", either(r), also(r)));
  const rows = toApply.map((r) => h("tr", {},
    h("td", {}, h("strong", { class: "yl-card__name" }, r.name), FOR_TEXT[r.for] || "", either(r), r.amount?.text ? h("br") : null, r.amount?.text || "", also(r)),
    h("td", { class: "yl-card__how" }, r.apply === "unknown" && !(r.where || "").includes("要不要申请")
      ? `文件没写要不要申请，请先问：${r.ask || "当地乡镇（街道）或12345"}。` : "", r.where || "")));
  // maybe only because the document is silent or contradicts itself (no fact to ask the elder)
  const doubtful = maybe.filter((r) => r.doubts && r.doubts.length && !(r.missing || []).length);
  const missingBy = new Map();
  for (const q of answer.questions || []) missingBy.set(q, []);
  for (const r of maybe) for (const m of r.missing || []) {
    if (!missingBy.has(m)) missingBy.set(m, []);
    missingBy.get(m).push(r.name);
  }
  const toAsk = [...missingBy].filter(([, names]) => names.length);
  const phones = codes.flatMap((c) => (counties.get(c)?.phones || []).map((ph) => `${ph.name} ${ph.number}`));
  const docs = codes.map((c) => counties.get(c)).filter(Boolean)
    .map((c) => `${c.name}：《${c.document.title}》（${[c.document.status_text, c.document.date || "文件未注明日期"].filter(Boolean).join("，")}）`);
  if (card.id === "yl-card") document.documentElement.classList.add("yl-has-card");
  const keep = "yl-card__todo";   // what 只打印要去办的事 prints
  card.replaceChildren(...[
    h("h1", { class: keep }, "养老服务明白卡"),
    who ? h("p", { class: `yl-card__elder ${keep}` }, who) : null,
    h("p", { class: `yl-card__who ${keep}` }, describe(p), `　查询日期：${ymd(answer.as_of)}`),
    eligible.length ? null : h("h2", {}, "暂时没有查到可以享受的服务"),
    answer.monthly_total?.yuan ? h("p", { class: "yl-card__total" }, `可以享受${eligible.length}项，按月领的钱合计：${answer.monthly_total.text}`) : null,
    toApply.length ? [h("h2", { class: keep }, toApply.some((r) => r.apply === "unknown")
      ? `要去办的事：去申请或先问清楚（${toApply.length}项）` : `要去办的事：需要去申请（${toApply.length}项）`),
      h("table", { class: `yl-card__table ${keep}` }, h("thead", {}, h("tr", {}, h("th", {}, "服务和能得到什么"), h("th", {}, "去哪里办、怎么办"))), h("tbody", {}, rows))] : null,
    automatic.length ? [h("h2", {}, `不用申请，自动享受（${automatic.length}项）`), h("ul", { class: "yl-card__auto" }, autoItems)] : null,
    toAsk.length ? [h("h2", {}, `可能可以（${maybe.length}项），先问清楚：`),
      h("ul", { class: "yl-card__ask" }, toAsk.slice(0, 3).map(([m, names]) => h("li", {}, `${fieldLabel(m)}（关系到${names.slice(0, 3).join("、")}${names.length > 3 ? `等${names.length}项` : ""}）`))),
      toAsk.length > 3 ? h("p", { class: "yl-card__ask" }, `还有${toAsk.length - 3}个问题，见网页上的查询结果。`) : null,
      h("p", { class: "yl-card__ask-short" }, toAsk.slice(0, 4).map(([m]) => fieldLabel(m)).join("、"), toAsk.length > 4 ? `等${toAsk.length}个问题，见网页上的查询结果。` : "。")] : null,
    doubtful.length ? [h("h2", {}, `文件没写清楚，要去问（${doubtful.length}项）`),
      h("ul", { class: "yl-card__doubt" }, doubtful.slice(0, 4).map((r) => h("li", {}, h("strong", {}, r.name), `：${r.doubts[0]}`))),
      doubtful.length > 4 ? h("p", { class: "yl-card__doubt" }, `还有${doubtful.length - 4}项，见网页上的查询结果。`) : null] : null,
    upcoming.length ? [h("h2", {}, "以后可以"), h("ul", {}, upcoming.map((r) => h("li", {}, `${r.name}：${r.from ? ymd(r.from) + "起" : "以后"}${r.amount?.text ? "，" + r.amount.text : ""}`)))] : null,
    phones.length ? h("p", { class: `yl-card__phones ${keep}` }, "咨询电话：", phones.join("；")) : h("p", { class: `yl-card__phones ${keep}` }, "咨询：村（社区）、乡镇（街道），或拨打12345政务服务热线。"),
    h("p", { class: "yl-card__source" }, "依据：", docs.join("；"), "。本卡由“养老服务明白卡”网站按县里公开的政策文件算出，以当地政府部门的答复为准。"),
  ].flat(Infinity).filter(Boolean));
  fitCard(card);
  return card;
}

function fitCard(card) {
  // One A4 page: 297 mm less 20 mm of margins (checker.css @page) and a little room for the
  // browser's page footer, measured on a hidden copy in print units. Smaller type step by step
  // (14 pt down to 10 pt), and last the 可能可以 list shortened to one line.
  const limit = 268 * 96 / 25.4;
  const steps = ["", "yl-card--fit1", "yl-card--fit2", "yl-card--fit3", "yl-card--fit4", "yl-card--fit4 yl-card--short"];
  const all = ["yl-card--fit1", "yl-card--fit2", "yl-card--fit3", "yl-card--fit4", "yl-card--short"];
  card.style.zoom = "";
  let height = 0;
  for (const step of steps) {
    card.classList.remove(...all);
    if (step) card.classList.add(...step.split(" "));
    card.classList.add("yl-card--measure");
    height = card.getBoundingClientRect().height;
    card.classList.remove("yl-card--measure");
    if (height <= limit) break;
  }
  // a very long answer: scale the smallest layout down to the page rather than spill onto a second
  if (height > limit) card.style.zoom = (limit / height).toFixed(3);
}

// ---------------------------------------------------------------- share link (URL fragment, never sent)

function toFragment() {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(values)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) params.set(name, value.join(",") || "-");
    else if (typeof value === "boolean") params.set(name, value ? "1" : "0");
    else params.set(name, String(value));
  }
  return params.toString();
}

function fromFragment(hash) {
  const params = new URLSearchParams(hash.replace(/^#/, ""));
  let any = false;
  for (const [name, raw] of params) {
    if (name === "residence_where" && (raw === "same" || raw === "away")) { values[name] = raw; any = true; continue; }
    if (name === "residence_other") { values[name] = raw; any = true; continue; }
    // only the form's own fields: never constructor, toString, __proto__ … inherited by every object
    if (!Object.hasOwn(form.fields, name)) continue;
    const field = form.fields[name];
    let v = raw;
    if (field.kind === "bool") v = raw === "1" ? true : raw === "0" ? false : undefined;
    else if (field.kind === "enum_list") v = raw === "-" ? [] : raw.split(",").map((x) => choiceValue(name, x));
    else if (field.kind === "enum") v = choiceValue(name, raw);
    else if (field.kind === "int" || field.kind === "number") v = Number(raw);
    if (v !== undefined && !(typeof v === "number" && !Number.isFinite(v))) { values[name] = v; any = true; }
  }
  return any;
}

// ---------------------------------------------------------------- start

function showStage({ stage, n, of }) {
  if (ready || failed || !$("yl-status-text")) return;
  $("yl-status-text").textContent = `第${n}步（共${of}步）：${STAGE_TEXT[stage] || stage}。现在就可以开始填写。`;
  $("yl-progress").value = n - 0.5;
}

function showFailure(err) {
  failed = err;
  const status = $("yl-status");
  status.classList.add("yl-status--failed");
  status.replaceChildren(
    h("p", { class: "yl-problem" }, "这部手机（浏览器）没能启动查询程序，所以不能自动计算。",
      "可以换一个新一点的浏览器再试，或者直接看各县的服务清单：",
      form ? form.counties.map((c, i) => [i ? "、" : "", h("a", { href: siteURL(c.url) }, c.name)]) : h("a", { href: siteURL("") }, "首页"),
      "。"),
    h("p", { class: "yl-hint" }, `（技术原因：${err && err.message ? err.message : err}）`));
  $("yl-summary").textContent = "查询程序没有启动，暂时不能显示结果。请看上面的各县服务清单。";
}

function syncAll() {
  for (const el of document.querySelectorAll("#yl-form .yl-q")) el.sync?.();
}

async function start() {
  yanglaoChecker.onStage(showStage);
  yanglaoChecker.ready.then((info) => {
    ready = true;
    $("yl-status-text").textContent = "查询程序已准备好：填写后马上显示结果。以后没有网络也能用。";
    $("yl-progress").value = 3;
    $("yl-status").classList.add("yl-status--ready");
    document.documentElement.dataset.checkerReady = "1";
    run();
  }, showFailure).finally(() => {
    // offline.js registers the service worker now: its precache then finds Pyodide in the HTTP cache
    document.documentElement.dataset.toolSettled = "1";
    document.dispatchEvent(new Event("yl-tool-settled"));
  });

  const response = await fetch(new URL("form.json", HERE), { cache: "no-cache" });
  form = await response.json();
  counties = new Map(form.counties.map((c) => [c.code, c]));
  if (form.county_on_demand) {
    // a large catalogue (site_build/checker_assets.py): a county's list is fetched when it is chosen,
    // and the page says so next to its promise that nothing is sent
    const lead = document.querySelector(".yl-lead");
    if (lead) lead.after(h("p", { class: "yl-hint", id: "yl-on-demand" },
      "第一次查一个县（市）时，手机要从本网站下载这个县（市）的服务清单：网站因此知道查的是哪个县（市），但不知道老人的任何情况。"));
  }
  const core = $("yl-core");
  core.append(
    control("hukou"), control("birth"), control("residence"),
    control("economic"), control("care_level"));
  $("yl-more-button").addEventListener("click", () => {
    showAllFollowups = true;
    if (lastAnswer) updateFollowups(lastAnswer);
  });
  $("yl-print").addEventListener("click", () => window.print());
  $("yl-share").addEventListener("click", () => {
    const link = `${location.origin}${location.pathname}#${toFragment()}`;
    $("yl-share-link").value = link;
    $("yl-share-box").hidden = false;
    $("yl-share-link").focus();
    $("yl-share-link").select();
  });
  $("yl-copy").addEventListener("click", async () => {
    const input = $("yl-share-link");
    try {
      await navigator.clipboard.writeText(input.value);
      $("yl-copied").textContent = "已复制。";
    } catch {
      input.select();
      $("yl-copied").textContent = "请长按上面的链接，选择“复制”。";
    }
  });
  const clearAnswers = () => {
    for (const k of Object.keys(values)) delete values[k];
    for (const el of followups.values()) el.remove();
    followups.clear();
    showAllFollowups = false;
    $("yl-more").hidden = true;
    document.querySelectorAll("#yl-form [data-touched]").forEach((el) => delete el.dataset.touched);
  };
  const applyFragment = (hash) => {
    if (hash.length <= 1 || !fromFragment(hash)) return;
    if (values.hukou && !values.residence_where) values.residence_where = "same";
    syncAll();
    // follow-up answers from the link get their controls once the first answer arrives
    for (const name of Object.keys(values)) {
      if (Object.hasOwn(form.fields, name) && !CORE.includes(name) && !["birth_date", "age", "hukou", "residence"].includes(name) && !followups.has(name)) {
        const el = control(name);
        if (el) { followups.set(name, el); $("yl-followups").append(el); el.sync?.(); $("yl-more").hidden = false; }
      }
    }
  };
  // a share link opened in a tab where the checker is already open changes only the fragment
  // (an in-page link such as the skip link's #mb-main holds no answers: it changes nothing)
  window.addEventListener("hashchange", () => {
    const keys = [...new URLSearchParams(location.hash.slice(1)).keys()];
    if (!keys.some((k) => Object.hasOwn(form.fields, k) || k === "residence_where" || k === "residence_other")) return;
    clearAnswers();
    syncAll();
    applyFragment(location.hash);
    run();
  });
  $("yl-reset").addEventListener("click", () => {
    clearAnswers();
    syncAll();
    if (location.hash) history.replaceState(null, "", location.pathname);
    showMessage("选好户籍所在县、填好出生日期，这里就会显示结果。");
    core.querySelector("select")?.focus();
  });
  applyFragment(location.hash);
  // 走访 (issue 14): save this elder, the next one, the visit list. visits-ui.js only asks through these.
  const firstField = () => core.querySelector("select");
  const loadValues = (p) => {
    // a saved (or register) profile back into the form: its own fields, 常住地 as the form asks it
    clearAnswers();
    for (const [name, value] of Object.entries(p || {})) {
      if (Object.hasOwn(form.fields, name) && name !== "residence" && name !== "as_of" && value !== null && value !== undefined) values[name] = value;
    }
    if (values.hukou && !counties.has(values.hukou)) values.hukou = OTHER;
    if (p && p.residence && p.residence !== p.hukou) {
      values.residence_where = "away";
      values.residence_other = counties.has(p.residence) ? p.residence : OTHER;
    } else if (values.hukou) values.residence_where = "same";
    syncAll();
    for (const name of Object.keys(values)) {
      if (Object.hasOwn(form.fields, name) && !CORE.includes(name) && !["birth_date", "age", "hukou", "residence"].includes(name) && !followups.has(name)) {
        const el = control(name);
        if (el) { followups.set(name, el); $("yl-followups").append(el); el.sync?.(); $("yl-more").hidden = false; }
      }
    }
    if (location.hash.length > 1 && !location.hash.startsWith("#yl-")) history.replaceState(null, "", location.pathname);
    return run();
  };
  const emptyForm = () => {
    clearAnswers();
    syncAll();
    if (location.hash) history.replaceState(null, "", location.pathname);
    showMessage("选好户籍所在县、填好出生日期，这里就会显示结果。");
  };
  initVisits({
    h, ymd, today, hooks: visitHooks, checker: yanglaoChecker,
    fieldLabel, whereShort, firstField, loadValues, emptyForm,
    current: () => (lastAnswer ? { answer: lastAnswer, profile: lastProfile } : null),
    card: (answer, p, el, who) => renderCard(answer, p, el, who),
    counties: () => counties,
  });
  document.documentElement.dataset.checkerForm = "1";
  run();
}

start().catch((err) => showFailure(err));
