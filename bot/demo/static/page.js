// The demo's chat page: a patron's private chat with the bot and the staff forum group, side by
// side. Everything goes through the sandbox's control API (/_sandbox/...), as a Telegram client
// would: the page never calls the bot or the store. Plain JavaScript, no build step.
// The page's own words are in Italian, as the patrons' and the librarians' are, with a switch to
// English (remembered in the browser, or ?lang=en); the bot speaks each patron's language.
"use strict";

const LABELS = {
  it: {
    subtitle: "demo: il bot senza Telegram",
    clock_today: "Oggi nella demo:",
    plus1: "+1 giorno",
    plus3: "+3 giorni",
    clock_run_as: "oppure al",
    clock_run: "Vai",
    clock_title: "Esegue gli avvisi giornalieri del bot (promemoria di scadenza, ritardi,"
      + " prenotazioni pronte) per ogni giorno fino a quello scelto",
    clock_running: (day) => `avvisi del ${day} in corso…`,
    clock_done: (r, span) => `avvisi ${span}: ${r.queued} in coda, ${r.sent} inviati`
      + (r.undeliverable ? `, ${r.undeliverable} non recapitati (tessera non collegata)` : ""),
    clock_nothing: (day) => `gli avvisi fino al ${day} sono già stati eseguiti: nulla di nuovo`,
    span_one: (a) => `del ${a}`,
    span_many: (a, b) => `dal ${a} al ${b}`,
    later: (n) => (n === 1 ? "+1 giorno" : `+${n} giorni`),
    language_switch: "English",
    patron_title: "Chat dell'utente con il bot",
    patron_hint: (p, story) => `Sei <b>${p.name}</b> su Telegram. Tessera <b>${p.card}</b>,`
      + ` PIN <b>${p.pin}</b> (${p.category}): ${story}.`,
    category: { adult: "adulto", child: "ragazzi", institution: "ente" },
    patron_placeholder: (bot) => `Scrivi al bot: un titolo, /start, /loans… o @${bot} titolo`,
    patron_empty: "Nessun messaggio. Scrivi /start per cominciare: il bot chiede la lingua"
      + " e offre di collegare la tessera.",
    staff_title: "Gruppo dello staff",
    staff_hint: (name) => `Sei <b>${name}</b>, bibliotecaria nel gruppo forum dello staff:`
      + " ogni conversazione con un utente ha il suo argomento.",
    staff_placeholder_topic: "Rispondi in questo argomento",
    staff_placeholder_general: "Scrivi nel gruppo",
    staff_empty: "Nessun messaggio qui. Quando un utente chiede un bibliotecario (/librarian)"
      + " o prenota un appuntamento, il bot apre un argomento in questo gruppo.",
    general: "Generale",
    send: "Invia",
    edited: "modificato",
    no_results: "Nessun risultato",
    refused: "il sandbox ha rifiutato l'azione",
    topic_created: (name) => `Argomento «${name}» creato`,
    topic_closed: "Argomento chiuso",
    topic_reopened: "Argomento riaperto",
    topic_edited: (name) => `Argomento rinominato «${name}»`,
    pinned: "Messaggio fissato",
    new_members: "Nuovi membri",
  },
  en: {
    subtitle: "demo: the bot without Telegram",
    clock_today: "Today in the demo:",
    plus1: "+1 day",
    plus3: "+3 days",
    clock_run_as: "or on",
    clock_run: "Go",
    clock_title: "Runs the bot's daily notices (due-date reminders, overdue notices, holds"
      + " ready) for every day up to the one chosen",
    clock_running: (day) => `running the notices of ${day}…`,
    clock_done: (r, span) => `notices ${span}: ${r.queued} queued, ${r.sent} sent`
      + (r.undeliverable ? `, ${r.undeliverable} undeliverable (card not linked)` : ""),
    clock_nothing: (day) => `the notices up to ${day} have already run: nothing new`,
    span_one: (a) => `of ${a}`,
    span_many: (a, b) => `from ${a} to ${b}`,
    later: (n) => (n === 1 ? "+1 day" : `+${n} days`),
    language_switch: "Italiano",
    patron_title: "Patron's chat with the bot",
    patron_hint: (p, story) => `You are <b>${p.name}</b> on Telegram. Card <b>${p.card}</b>,`
      + ` PIN <b>${p.pin}</b> (${p.category}): ${story}.`,
    category: { adult: "adult", child: "child", institution: "institution" },
    patron_placeholder: (bot) => `Write to the bot: a title, /start, /loans… or @${bot} title`,
    patron_empty: "No messages. Send /start to begin: the bot asks for the language and"
      + " offers to link the card.",
    staff_title: "Staff group",
    staff_hint: (name) => `You are <b>${name}</b>, a librarian in the staff forum group:`
      + " each conversation with a patron has its own topic.",
    staff_placeholder_topic: "Answer in this topic",
    staff_placeholder_general: "Write in the group",
    staff_empty: "No messages here. When a patron asks for a librarian (/librarian) or books"
      + " an appointment, the bot opens a topic in this group.",
    general: "General",
    send: "Send",
    edited: "edited",
    no_results: "No results",
    refused: "the sandbox refused that",
    topic_created: (name) => `Topic “${name}” created`,
    topic_closed: "Topic closed",
    topic_reopened: "Topic reopened",
    topic_edited: (name) => `Topic renamed “${name}”`,
    pinned: "Message pinned",
    new_members: "New members",
  },
};
const LANGUAGE_KEY = "bibliobot-demo-language";

function chosenLanguage() {
  const asked = new URLSearchParams(location.search).get("lang");
  let stored = null;
  try { stored = localStorage.getItem(LANGUAGE_KEY); } catch (error) { /* private mode */ }
  const language = asked || stored || "it";
  return LABELS[language] ? language : "it";
}

let language = chosenLanguage();
let L = LABELS[language];

const page = {
  info: null,
  patron: null,          // the patron user we act as (an entry of info.patrons)
  topic: null,           // the staff group's open topic (message_thread_id), null = General
  topics: [],
  seen: {},              // messages seen per chat/topic key, for the unread badges
  lastSeq: 0,
  clockDay: null,        // the day the clock was last moved to (the demo's "today")
  seenReady: false,      // the topics' counts at load are taken as read
  pendingInline: null,   // the inline query whose results we wait for
  refreshTimer: null,
};

const $ = (id) => document.getElementById(id);

async function getJson(path) {
  const response = await fetch(path, { cache: "no-store" });
  const body = await response.json();
  if (!body.ok && body.ok !== undefined) throw new Error(body.error || response.statusText);
  return body.result !== undefined ? body.result : body;
}

async function act(name, args) {
  const response = await fetch(`/_sandbox/actions/${name}`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(args),
  });
  const body = await response.json();
  if (!body.ok) {
    toast(body.error || L.refused);
    throw new Error(body.error);
  }
  return body.result;
}

// -- formatting: Telegram entities (UTF-16 offsets, as JavaScript strings count) to HTML -------

function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => ({
    "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;",
  })[c]);
}

function safeUrl(url) {
  return /^(https?:|tg:|mailto:)/i.test(url) ? url : "#";
}

function openTag(entity, text) {
  const slice = text.slice(entity.offset, entity.offset + entity.length);
  switch (entity.type) {
    case "bold": return ["<b>", "</b>"];
    case "italic": return ["<i>", "</i>"];
    case "underline": return ["<u>", "</u>"];
    case "strikethrough": return ["<s>", "</s>"];
    case "spoiler": return ['<span class="spoiler">', "</span>"];
    case "code": return ["<code>", "</code>"];
    case "pre": return ["<pre>", "</pre>"];
    case "blockquote":
    case "expandable_blockquote": return ["<blockquote>", "</blockquote>"];
    case "text_link":
      return [`<a href="${escapeHtml(safeUrl(entity.url))}" target="_blank" rel="noopener">`, "</a>"];
    case "url":
      return [`<a href="${escapeHtml(safeUrl(slice))}" target="_blank" rel="noopener">`, "</a>"];
    case "email": return [`<a href="mailto:${escapeHtml(slice)}">`, "</a>"];
    default: return [`<span class="entity-${escapeHtml(entity.type)}">`, "</span>"];
  }
}

function entitiesToHtml(text, entities) {
  if (!entities || !entities.length) return escapeHtml(text);
  const sorted = [...entities].sort((a, b) => a.offset - b.offset || b.length - a.length);
  const stack = [];
  let out = "";
  let next = 0;
  for (let i = 0; i <= text.length; i++) {
    // Close what ends here (re-opening anything that was nested wrongly inside).
    for (let k = stack.length - 1; k >= 0; k--) {
      if (stack[k].offset + stack[k].length === i) {
        const reopen = stack.splice(k + 1);
        for (const e of [...reopen].reverse()) out += openTag(e, text)[1];
        out += openTag(stack.pop(), text)[1];
        for (const e of reopen) { out += openTag(e, text)[0]; stack.push(e); }
      }
    }
    while (next < sorted.length && sorted[next].offset === i) {
      const entity = sorted[next++];
      if (entity.length <= 0) continue;
      out += openTag(entity, text)[0];
      stack.push(entity);
    }
    if (i < text.length) out += escapeHtml(text[i]);
  }
  while (stack.length) out += openTag(stack.pop(), text)[1];
  return out;
}

// -- messages --------------------------------------------------------------------------------

const SERVICE_KEYS = {
  forum_topic_created: (m) => L.topic_created(m.forum_topic_created.name),
  forum_topic_closed: () => L.topic_closed,
  forum_topic_reopened: () => L.topic_reopened,
  forum_topic_edited: (m) => L.topic_edited(m.forum_topic_edited.name || ""),
  pinned_message: () => L.pinned,
  new_chat_members: () => L.new_members,
};

function fileLink(entry, message) {
  const doc = message.document || message.audio || message.video || message.voice
    || message.animation || message.sticker;
  const photo = message.photo ? message.photo[message.photo.length - 1] : null;
  const fileId = entry.file_id || (doc && doc.file_id) || (photo && photo.file_id);
  if (!fileId) return "";
  const name = (doc && doc.file_name) || (photo ? "photo.jpg" : "file");
  const href = `/_sandbox/files/${encodeURIComponent(fileId)}`;
  return `<a class="file" href="${href}" download="${escapeHtml(name)}">📎 ${escapeHtml(name)}</a>`;
}

function keyboardHtml(message) {
  const rows = (message.reply_markup && message.reply_markup.inline_keyboard) || [];
  if (!rows.length) return "";
  const html = rows.map((row) => '<div class="row">' + row.map((button) => {
    const label = escapeHtml(button.text);
    if (button.url) {
      return `<a href="${escapeHtml(safeUrl(button.url))}" target="_blank" rel="noopener">${label} ↗</a>`;
    }
    if (button.callback_data !== undefined) {
      return `<button type="button" data-press="${escapeHtml(button.callback_data)}"`
        + ` data-message="${message.message_id}">${label}</button>`;
    }
    if (button.switch_inline_query_current_chat !== undefined
        || button.switch_inline_query !== undefined) {
      const query = button.switch_inline_query_current_chat ?? button.switch_inline_query;
      return `<button type="button" data-inline="${escapeHtml(query)}">${label}</button>`;
    }
    return `<button type="button" disabled>${label}</button>`;
  }).join("") + "</div>").join("");
  return `<div class="keyboard">${html}</div>`;
}

function messageHtml(entry, ownId, showSender) {
  const m = entry.message;
  for (const [key, describe] of Object.entries(SERVICE_KEYS)) {
    if (m[key]) return `<div class="msg service">${escapeHtml(describe(m))}</div>`;
  }
  const mine = entry.sender_id === ownId;
  const text = m.text !== undefined ? m.text : (m.caption || "");
  const entities = m.text !== undefined ? m.entities : m.caption_entities;
  const who = showSender && !mine && m.from
    ? `<div class="who">${escapeHtml(m.from.first_name + (m.from.last_name ? " " + m.from.last_name : ""))}</div>`
    : "";
  const via = m.via_bot ? `<div class="who">via @${escapeHtml(m.via_bot.username)}</div>` : "";
  const time = new Date(m.date * 1000).toLocaleTimeString(language, {
    hour: "2-digit", minute: "2-digit",
  });
  const edited = entry.edit_count ? `${L.edited} ` : "";
  return `<div class="msg${mine ? " mine" : ""}" data-message-id="${m.message_id}">`
    + who + via + fileLink(entry, m) + entitiesToHtml(text, entities)
    + keyboardHtml(m) + `<div class="meta">${edited}${time}</div></div>`;
}

function renderInto(container, entries, ownId, showSender, empty) {
  const html = entries.length
    ? entries.map((e) => messageHtml(e, ownId, showSender)).join("")
    : `<p class="empty">${escapeHtml(empty)}</p>`;
  if (container.dataset.html === html) return;
  container.innerHTML = html;
  container.dataset.html = html;
  // Follow the conversation unless the reader scrolled up to read something older (the pane
  // can also shrink under her, e.g. when the header grows: that is not scrolling up).
  if (container.dataset.follow !== "no") container.scrollTop = container.scrollHeight;
}

function followScrolling(container) {
  container.addEventListener("scroll", () => {
    const atBottom = container.scrollHeight - container.scrollTop - container.clientHeight < 40;
    container.dataset.follow = atBottom ? "yes" : "no";
  });
  new ResizeObserver(() => {
    if (container.dataset.follow !== "no") container.scrollTop = container.scrollHeight;
  }).observe(container);
}

// -- the patron's chat ----------------------------------------------------------------------

function renderPatronTabs() {
  const tabs = $("patron-tabs");
  tabs.innerHTML = "";
  for (const patron of page.info.patrons) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = `${patron.name} · ${patron.card}`;
    button.className = patron === page.patron ? "active" : "";
    button.addEventListener("click", () => {
      page.patron = patron;
      $("patron-messages").dataset.follow = "yes";
      renderPatronTabs();
      refresh();
    });
    tabs.appendChild(button);
  }
  const p = page.patron;
  const shown = {
    name: escapeHtml(p.name),
    card: escapeHtml(p.card),
    pin: escapeHtml(p.pin),
    category: escapeHtml(L.category[p.category] || p.category),
  };
  const story = language === "it" && p.story_it ? p.story_it : p.story;
  $("patron-card").innerHTML = L.patron_hint(shown, escapeHtml(story));
  $("inline-results").hidden = true;
}

function renderReplyKeyboard(entries) {
  const box = $("reply-keyboard");
  let keyboard = null;
  let index = -1;
  entries.forEach((entry, i) => {
    if (entry.reply_keyboard && entry.from_bot) { keyboard = entry.reply_keyboard; index = i; }
  });
  const usedOnce = keyboard && keyboard.one_time_keyboard
    && entries.slice(index + 1).some((e) => !e.from_bot);
  if (!keyboard || !keyboard.keyboard || usedOnce) {
    box.hidden = true;
    box.innerHTML = "";
    return;
  }
  box.innerHTML = keyboard.keyboard.map((row) => '<div class="row">' + row.map((b) => {
    const label = typeof b === "string" ? b : b.text;
    return `<button type="button" data-reply="${escapeHtml(label)}">${escapeHtml(label)}</button>`;
  }).join("") + "</div>").join("");
  box.hidden = false;
}

async function refreshPatron() {
  const p = page.patron;
  const entries = await getJson(`/_sandbox/chats/${p.user_id}/transcript`).catch(() => []);
  renderInto($("patron-messages"), entries, p.user_id, false, L.patron_empty);
  renderReplyKeyboard(entries);
}

async function sendPatronText(text) {
  const p = page.patron;
  const bot = page.info.bot.username;
  const inline = text.match(new RegExp(`^@${bot}\\s*(.*)$`, "i"));
  if (inline) {
    await startInline(inline[1]);
    return;
  }
  $("inline-results").hidden = true;
  await act("send_text", { user_id: p.user_id, text });
}

async function startInline(query) {
  const id = await act("inline_query", { user_id: page.patron.user_id, query });
  page.pendingInline = { id, user: page.patron.user_id };
  const answer = await getJson(`/_sandbox/answers/inline/${id}`);
  if (answer) showInline(id, answer);
}

function showInline(id, answer) {
  if (!page.pendingInline || page.pendingInline.id !== id) return;
  const box = $("inline-results");
  const results = answer.results || [];
  box.innerHTML = results.length
    ? results.map((r) => `<button type="button" data-result="${escapeHtml(r.id)}">`
      + `<b>${escapeHtml(r.title || r.id)}</b><div class="desc">${escapeHtml(r.description || "")}</div>`
      + "</button>").join("")
    : `<div class="hint" style="padding:8px 12px">${escapeHtml(L.no_results)}</div>`;
  box.hidden = false;
}

// -- the staff group ------------------------------------------------------------------------

function topicKey(threadId) { return `staff:${threadId ?? "general"}`; }

async function refreshStaff() {
  const staff = page.info.staff;
  const state = await getJson("/_sandbox/state");
  const group = state.chats.find((c) => c.id === staff.chat_id);
  if (!group) return;
  $("staff-title").textContent = group.title;
  page.topics = group.topics;
  const entries = await getJson(`/_sandbox/chats/${staff.chat_id}/transcript`);
  const counts = {};
  for (const e of entries) counts[topicKey(e.thread_id)] = (counts[topicKey(e.thread_id)] || 0) + 1;
  const visible = entries.filter((e) => (e.thread_id ?? null) === page.topic);
  if (!page.seenReady) {
    // What was there when the page opened is not news: only later messages get a badge.
    Object.assign(page.seen, counts);
    page.seenReady = true;
  }
  page.seen[topicKey(page.topic)] = counts[topicKey(page.topic)] || 0;
  renderTopicTabs(counts);
  renderInto($("staff-messages"), visible, staff.user_id, true, L.staff_empty);
  $("staff-input").placeholder = page.topic === null
    ? L.staff_placeholder_general : L.staff_placeholder_topic;
}

function renderTopicTabs(counts) {
  const tabs = $("topic-tabs");
  const all = [{ message_thread_id: null, name: L.general }, ...page.topics];
  tabs.innerHTML = "";
  for (const topic of all) {
    const id = topic.message_thread_id;
    const button = document.createElement("button");
    button.type = "button";
    button.className = id === page.topic ? "active" : "";
    button.dataset.topic = id === null ? "" : String(id);
    const unread = (counts[topicKey(id)] || 0) - (page.seen[topicKey(id)] || 0);
    button.innerHTML = escapeHtml((topic.closed ? "🔒 " : "") + topic.name)
      + (unread > 0 && id !== page.topic ? `<span class="badge">${unread}</span>` : "");
    button.addEventListener("click", () => {
      page.topic = id;
      $("staff-messages").dataset.follow = "yes";
      refresh();
    });
    tabs.appendChild(button);
  }
}

// -- clock ----------------------------------------------------------------------------------

function shiftDays(iso, days) {
  const d = new Date(iso + "T12:00:00Z");
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

function longDate(iso) {
  return new Date(iso + "T12:00:00Z").toLocaleDateString(language, {
    weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC",
  });
}

function shortDate(iso) {
  return new Date(iso + "T12:00:00Z").toLocaleDateString(language, {
    day: "numeric", month: "short", timeZone: "UTC",
  });
}

function daysBetween(from, to) {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86400000);
}

function renderClock() {
  const day = page.clockDay;
  const ahead = daysBetween(page.info.today, day);
  $("today").textContent = longDate(day) + (ahead > 0 ? ` (${L.later(ahead)})` : "");
  $("today").dataset.day = day;
  $("clock-date").value = shiftDays(day, 1);
  $("clock").title = L.clock_title;
}

function clockSummary(result) {
  const days = result.days || [];
  if (!days.length) return L.clock_nothing(shortDate(result.date));
  const span = days.length === 1
    ? L.span_one(shortDate(days[0]))
    : L.span_many(shortDate(days[0]), shortDate(days[days.length - 1]));
  return L.clock_done(result, span);
}

async function runClock(day) {
  if (!day) return;
  $("clock-status").textContent = L.clock_running(shortDate(day));
  const response = await fetch("/demo/clock", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ date: day }),
  });
  const body = await response.json();
  if (!body.ok) {
    $("clock-status").textContent = body.error;
    return;
  }
  if (day > page.clockDay) page.clockDay = day;
  renderClock();
  $("clock-status").textContent = clockSummary(body.result);
  $("clock-status").title = $("clock-status").textContent;
}

// -- wiring ---------------------------------------------------------------------------------

let toastTimer = null;
function toast(text, alert) {
  const box = $("toast");
  box.textContent = text;
  box.className = alert ? "toast alert" : "toast";
  box.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { box.hidden = true; }, alert ? 6000 : 3000);
}

async function refresh() {
  await Promise.all([refreshPatron(), refreshStaff()]);
}

function scheduleRefresh() {
  clearTimeout(page.refreshTimer);
  page.refreshTimer = setTimeout(refresh, 40);
}

function onEvent(event) {
  page.lastSeq = Math.max(page.lastSeq, event.seq);
  if (event.kind === "callback_answer" && event.user_id === page.patron.user_id
      && event.answer && event.answer.text) {
    toast(event.answer.text, event.answer.show_alert);
  } else if (event.kind === "inline_answer") {
    showInline(event.inline_query_id, event.answer);
  }
  if (["message", "edit", "delete", "topic", "chat", "member"].includes(event.kind)) {
    scheduleRefresh();
  }
}

function follow() {
  const source = new EventSource(`/_sandbox/events/stream?after=${page.lastSeq}`);
  source.onmessage = (message) => onEvent(JSON.parse(message.data));
  source.onerror = () => { source.close(); setTimeout(() => { follow(); refresh(); }, 1000); };
}

function deepLink(href) {
  // https://t.me/<bot>?start=PARAM: Telegram opens the bot's chat and sends /start PARAM.
  try {
    const url = new URL(href);
    const bot = page.info.bot.username.toLowerCase();
    if (url.hostname !== "t.me" || url.pathname.slice(1).toLowerCase() !== bot) return null;
    const start = url.searchParams.get("start");
    return start ? `/start ${start}` : "/start";
  } catch (error) {
    return null;
  }
}

function onClick(event) {
  const target = event.target.closest("button, a");
  if (!target) return;
  const p = page.patron;
  const link = target.tagName === "A" ? deepLink(target.href) : null;
  if (link) {
    event.preventDefault();
    act("send_text", { user_id: p.user_id, text: link });
  } else if (target.dataset.press !== undefined) {
    const inStaff = target.closest("#staff-messages");
    const user = inStaff ? page.info.staff.user_id : p.user_id;
    const chat = inStaff ? page.info.staff.chat_id : p.user_id;
    act("press_button", {
      user_id: user, chat_id: chat,
      message_id: Number(target.dataset.message), data: target.dataset.press,
    });
  } else if (target.dataset.reply !== undefined) {
    act("press_reply_button", { user_id: p.user_id, text: target.dataset.reply });
  } else if (target.dataset.result !== undefined && page.pendingInline) {
    act("choose_inline_result", {
      user_id: p.user_id, inline_query_id: page.pendingInline.id,
      result_id: target.dataset.result, chat_id: p.user_id,
    });
    $("inline-results").hidden = true;
  } else if (target.dataset.inline !== undefined) {
    const text = `@${page.info.bot.username} ${target.dataset.inline}`;
    $("patron-input").value = text;
    startInline(target.dataset.inline);
  }
}

function applyLanguage() {
  document.documentElement.lang = language;
  for (const element of document.querySelectorAll("[data-i18n]")) {
    const text = L[element.dataset.i18n];
    if (typeof text === "string") element.textContent = text;
  }
  const other = language === "it" ? "en" : "it";
  $("language").textContent = L.language_switch;
  $("language").lang = other;
  $("patron-input").placeholder = L.patron_placeholder(page.info.bot.username);
  $("staff-hint").innerHTML = L.staff_hint(escapeHtml(page.info.staff.name));
  renderPatronTabs();
  if (page.info.clock) renderClock();
}

function switchLanguage() {
  language = language === "it" ? "en" : "it";
  L = LABELS[language];
  try { localStorage.setItem(LANGUAGE_KEY, language); } catch (error) { /* private mode */ }
  $("clock-status").textContent = "";
  for (const box of document.querySelectorAll(".messages")) delete box.dataset.html;
  applyLanguage();
  refresh();
}

async function start() {
  page.info = await getJson("/demo/info");
  page.patron = page.info.patrons[0];
  page.clockDay = page.info.clock_day || page.info.today;
  if (page.info.clock) {
    $("clock").hidden = false;
    $("clock-plus1").addEventListener("click", () => runClock(shiftDays(page.clockDay, 1)));
    $("clock-plus3").addEventListener("click", () => runClock(shiftDays(page.clockDay, 3)));
    $("clock-run").addEventListener("click", () => runClock($("clock-date").value));
  }
  $("language").addEventListener("click", switchLanguage);
  for (const box of document.querySelectorAll(".messages")) followScrolling(box);
  document.body.addEventListener("click", onClick);
  $("patron-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("patron-input").value.trim();
    if (!text) return;
    $("patron-input").value = "";
    sendPatronText(text);
  });
  $("staff-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("staff-input").value.trim();
    if (!text) return;
    $("staff-input").value = "";
    const staff = page.info.staff;
    const args = { user_id: staff.user_id, text, chat_id: staff.chat_id };
    if (page.topic !== null) args.thread_id = page.topic;
    act("send_text", args);
  });
  applyLanguage();
  const state = await getJson("/_sandbox/state");
  page.lastSeq = state.last_seq;
  await refresh();
  follow();
  document.body.dataset.ready = "1";
}

start();
