// Web chat: talks to POST /api/chat. Everything the customer or the bot wrote is inserted as
// text (textContent), never as HTML; only http(s) links in bot replies become <a> elements.
"use strict";

(function () {
  const log = document.getElementById("log");
  const form = document.getElementById("composer");
  const input = document.getElementById("text");
  const send = document.getElementById("send");
  const status = document.getElementById("status");
  const URL_PATTERN = /(https?:\/\/[^\s)]+|www\.[a-z0-9.-]+\.[a-z]{2,}[^\s)]*)/gi;

  // The session id is the chat's only credential (whoever knows it reads the conversation), so
  // it is 128 bits from the browser's cryptographic generator, as 32 hex characters. An id kept
  // by an older version of this page that the server no longer accepts (shorter than 32
  // characters) is replaced: that conversation cannot be continued safely anyway.
  const SESSION_KEY = "perseo-session";
  const VALID_SESSION = /^[A-Za-z0-9_.:-]{32,128}$/;

  function newSessionId() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
  }

  function sessionId() {
    let id = localStorage.getItem(SESSION_KEY);
    if (!id || !VALID_SESSION.test(id)) {
      id = newSessionId();
      localStorage.setItem(SESSION_KEY, id);
    }
    return id;
  }

  function appendLinkified(parent, text) {
    let last = 0;
    for (const match of text.matchAll(URL_PATTERN)) {
      parent.appendChild(document.createTextNode(text.slice(last, match.index)));
      const link = document.createElement("a");
      const raw = match[0].replace(/[.,;:]+$/, "");
      link.href = raw.startsWith("http") ? raw : "https://" + raw;
      link.textContent = raw;
      link.target = "_blank";
      link.rel = "noopener noreferrer";
      parent.appendChild(link);
      last = match.index + raw.length;
    }
    parent.appendChild(document.createTextNode(text.slice(last)));
  }

  function addMessage(who, text, options) {
    const item = document.createElement("li");
    item.className = "msg msg--" + who;
    const bubble = document.createElement("p");
    bubble.className = "msg__text";
    if (who === "bot" || who === "advisor") {
      appendLinkified(bubble, text);
    } else {
      bubble.textContent = text;
    }
    item.appendChild(bubble);
    addOptions(item, options);
    log.appendChild(item);
    item.scrollIntoView({ block: "end" });
    return item;
  }

  function addOptions(item, options) {
    if (!options || !options.length) return;
    const group = document.createElement("div");
    group.className = "msg__options";
    group.setAttribute("role", "group");
    group.setAttribute("aria-label", "Opciones");
    for (const option of options) {
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = option;
      button.addEventListener("click", () => submit(option));
      group.appendChild(button);
    }
    item.appendChild(group);
    item.scrollIntoView({ block: "end" });
  }

  // After a reload: the conversation so far (GET /api/chat/history), with the options the
  // bot's last reply offered still tappable. Returns the updates cursor the history covers,
  // or null when there is nothing to show (a new visitor) or the server could not answer.
  const WHO = { customer: "user", bot: "bot", advisor: "advisor" };

  async function restoreHistory() {
    const id = localStorage.getItem("perseo-session");
    if (!id) return null;
    try {
      const response = await fetch("/api/chat/history?session_id=" + encodeURIComponent(id));
      if (!response.ok) return null;
      const data = await response.json();
      if (!data.messages.length) return null;
      let lastBot = null;
      for (const message of data.messages) {
        const item = addMessage(WHO[message.role] || "bot", message.text);
        if (message.role === "bot") lastBot = item;
      }
      if (lastBot) addOptions(lastBot, data.options);
      return data.cursor;
    } catch (error) {
      return null; // offline: the page still works, it just starts from the welcome
    }
  }

  async function submit(text, attachment) {
    if (!text.trim() && !attachment) return;
    addMessage("user", attachment ? "📎 " + attachment.filename : text);
    send.disabled = true;
    status.textContent = "Escribiendo…";
    const payload = { session_id: sessionId(), text: text };
    if (attachment) payload.attachment = attachment;
    try {
      const response = await fetch("/api/chat", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(payload),
      });
      if (response.status === 429) {
        // Too many messages from this connection: the server says, in Spanish, how long to wait.
        const body = await response.json().catch(() => ({}));
        status.textContent = typeof body.detail === "string" ? body.detail : "Espere unos segundos y vuelva a intentarlo.";
        return;
      }
      if (!response.ok) throw new Error("HTTP " + response.status);
      const data = await response.json();
      for (const reply of data.replies) addMessage("bot", reply.text, reply.options);
      status.textContent = "";
      if (data.handoff) startPolling();
    } catch (error) {
      status.textContent = "No pudimos enviar su mensaje. Revise su conexión e intente de nuevo.";
    } finally {
      send.disabled = false;
      input.focus();
    }
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = input.value;
    input.value = "";
    submit(text);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  const file = document.getElementById("file");
  file.addEventListener("change", () => {
    const chosen = file.files[0];
    file.value = "";
    if (!chosen) return;
    if (chosen.size > 10 * 1024 * 1024) {
      status.textContent = "El archivo supera 10 MB. Envíe una foto más liviana o el PDF.";
      return;
    }
    const reader = new FileReader();
    reader.onload = () => {
      const data = String(reader.result).split(",")[1] || "";
      submit("", { filename: chosen.name, content_type: chosen.type, data_base64: data });
    };
    reader.readAsDataURL(chosen);
  });

  // Messages that arrive on their own (an advisor's replies, training reminders): poll for
  // them, every 2 s while an advisor is involved, every 15 s otherwise. The cursor is taken
  // when the page first opens, so nothing written after that can be missed.
  let cursor = null;
  let fast = false;
  let timer = null;
  const cursorKey = "perseo-cursor-" + sessionId();

  async function fetchUpdates() {
    const query = "session_id=" + encodeURIComponent(sessionId()) + (cursor === null ? "" : "&after=" + cursor);
    try {
      const response = await fetch("/api/chat/updates?" + query);
      if (!response.ok) return null;
      const data = await response.json();
      for (const message of data.messages) addMessage("advisor", message.text);
      cursor = data.cursor;
      localStorage.setItem(cursorKey, String(cursor));
      return data;
    } catch (error) {
      return null; // offline for a moment: the next poll catches up from the same cursor
    }
  }

  function schedule() {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const data = await fetchUpdates();
      if (data) fast = Boolean(data.handoff);
      schedule();
    }, fast ? 2000 : 15000);
  }

  function startPolling() {
    if (fast) return;
    fast = true;
    schedule();
  }

  (async () => {
    const restored = await restoreHistory();
    const stored = localStorage.getItem(cursorKey);
    // The history already shows what was pushed up to its cursor: poll only for what follows.
    cursor = restored !== null ? restored : stored === null ? null : Number(stored);
    const data = await fetchUpdates();
    fast = Boolean(data && data.handoff);
    schedule();
  })();

  // The welcome message is rendered by the server; wire its option buttons.
  for (const button of log.querySelectorAll(".msg__options button")) {
    button.addEventListener("click", () => submit(button.textContent));
  }
})();
