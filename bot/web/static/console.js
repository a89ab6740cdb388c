// Advisor console. Every text that came from a customer (or anyone) is inserted with
// textContent, never as HTML. A server-sent event stream says when to refetch.
"use strict";

(function () {
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const notice = document.getElementById("notice");
  const STATUS = { waiting: "Esperando", active: "Atendiendo", closed: "Cerrada", left: "El cliente salió" };
  const CHANNEL = { webchat: "Web", telegram: "Telegram", whatsapp: "WhatsApp", terminal: "Terminal" };

  // Messages appear next to what the advisor just did (the `where` element, an aria-live
  // region above the form or button), styled as success or error, not in one banner on top.
  function show(text, where, kind) {
    const box = where || notice;
    box.textContent = text ? (kind === "ok" ? "✓ " : "⚠ ") + text : "";
    box.classList.toggle("flash--ok", Boolean(text) && kind === "ok");
    box.classList.toggle("flash--error", Boolean(text) && kind !== "ok");
    if (box === notice) box.hidden = !text;
  }

  function el(tag, text, className) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = String(text);
    if (className) node.className = className;
    return node;
  }

  async function api(method, url, body, where) {
    const options = { method: method, headers: { Accept: "application/json" }, credentials: "same-origin" };
    if (method !== "GET") {
      options.headers["X-CSRF-Token"] = csrf;
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body || {});
    }
    let response;
    try {
      response = await fetch(url, options);
    } catch (error) {
      show("Sin conexión con el servidor. Reintentando…", where);
      return null;
    }
    if (response.status === 401) {
      window.location.assign("/console/login?expired=1");
      return null;
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) {
      let detail = data.detail;
      if (Array.isArray(detail)) detail = "Revise los datos: " + detail.map((d) => d.msg).join("; ");
      show(detail || "No se pudo completar la acción (HTTP " + response.status + ").", where);
      return null;
    }
    return data;
  }

  function waited(seconds) {
    const minutes = Math.floor(seconds / 60);
    if (minutes < 1) return seconds + " s";
    if (minutes < 60) return minutes + " min";
    return Math.floor(minutes / 60) + " h " + (minutes % 60) + " min";
  }

  function listen(refresh) {
    refresh();
    const events = new EventSource("/console/events");
    events.addEventListener("change", refresh);
    events.addEventListener("expired", () => window.location.assign("/console/login?expired=1"));
    events.onerror = () => refresh(); // an expired session is noticed by the API and redirects
  }

  // --- the queue ----------------------------------------------------------------------
  const queueBody = document.getElementById("queue");
  if (queueBody) {
    let items = [];
    let fetchedAt = Date.now();

    function cell(label, text, className) {
      const node = el("td", text, className);
      node.dataset.label = label; // shown before the value when rows stack on a phone
      return node;
    }

    async function claim(id) {
      show("");
      const done = await api("POST", "/console/api/handoffs/" + id + "/claim");
      if (done) window.location.assign("/console/handoffs/" + id);
      else refreshQueue();
    }

    function render() {
      const extra = Math.floor((Date.now() - fetchedAt) / 1000);
      queueBody.replaceChildren();
      for (const item of items) {
        const row = el("tr");
        row.dataset.handoff = item.id;
        const waiting = item.status === "waiting" ? item.waiting_seconds + extra : item.waiting_seconds;
        row.appendChild(cell("Espera", waited(waiting)));
        const who = cell("Cliente");
        who.appendChild(el("span", item.company || "Chat sin verificar", item.company ? "" : "badge badge--warn"));
        if (item.paid_support) who.appendChild(el("span", " Soporte pagado", "badge"));
        row.appendChild(who);
        row.appendChild(cell("Canal", CHANNEL[item.channel] || item.channel));
        row.appendChild(cell("Último mensaje", item.last_message, "preview"));
        row.appendChild(cell("Estado", STATUS[item.status] + (item.advisor ? ": " + item.advisor : "")));
        const actions = cell("Acciones", null, "actions");
        const open = el("a", "Abrir", "button-link button-link--quiet");
        open.href = "/console/handoffs/" + item.id;
        actions.appendChild(open);
        if (item.status === "waiting") {
          const button = el("button", "Tomar");
          button.type = "button";
          button.className = "claim";
          button.addEventListener("click", () => claim(item.id));
          actions.appendChild(document.createTextNode(" "));
          actions.appendChild(button);
        }
        row.appendChild(actions);
        queueBody.appendChild(row);
      }
      document.getElementById("empty").hidden = items.length > 0;
    }

    async function refreshQueue() {
      const data = await api("GET", "/console/api/queue");
      if (!data) return;
      items = data.items;
      fetchedAt = Date.now();
      render();
    }

    listen(refreshQueue);
    setInterval(render, 5000);
  }

  // --- one conversation ---------------------------------------------------------------
  const page = document.getElementById("handoff-page");
  if (page) {
    const id = page.dataset.handoff;
    const history = document.getElementById("history");
    const claimButton = document.getElementById("claim");
    const replyForm = document.getElementById("reply");
    const replyText = document.getElementById("reply-text");
    const closeForm = document.getElementById("close");
    const minutes = document.getElementById("close-minutes");
    const topic = document.getElementById("close-topic");
    const claimStatus = document.getElementById("claim-status");
    const replyStatus = document.getElementById("reply-status");
    const closeStatus = document.getElementById("close-status");
    let minutesTouched = false;
    minutes.addEventListener("input", () => { minutesTouched = true; });

    function renderHistory(messages) {
      history.replaceChildren();
      for (const m of messages) {
        const item = el("li", null, "from-" + m.from);
        const label = m.from === "customer" ? "Cliente" : m.from === "bot" ? "Asistente virtual" : (m.author || "Asesor");
        const time = new Date(m.at).toLocaleTimeString("es-EC", { hour: "2-digit", minute: "2-digit" });
        item.appendChild(el("span", label + " · " + time, "who"));
        item.appendChild(document.createTextNode(m.text));
        history.appendChild(item);
      }
      history.scrollTop = history.scrollHeight;
    }

    function fact(list, term, value) {
      list.appendChild(el("dt", term));
      list.appendChild(el("dd", value));
    }

    function renderCustomer(customer) {
      const box = document.getElementById("customer");
      box.replaceChildren();
      if (!customer) {
        box.appendChild(el("p", "Chat sin verificar: la persona no vinculó una cuenta. No comparta datos de clientes; "
          + "pídale que escriba «mis horas» para verificarse con su RUC.", "alert"));
        return;
      }
      const list = el("dl", null, "facts");
      fact(list, "Empresa", customer.company);
      fact(list, "Contacto", customer.contact);
      fact(list, "Plan", customer.plan);
      fact(list, "Estado", customer.state_text);
      fact(list, "Horas restantes", customer.remaining_text);
      box.appendChild(list);
      box.appendChild(el("h3", "Facturas"));
      const invoices = el("ul");
      for (const i of customer.invoices) invoices.appendChild(el("li", i.number + " · vence el " + i.due_text + " · " + i.total_text + " · " + i.status_text));
      if (!customer.invoices.length) invoices.appendChild(el("li", "Sin facturas."));
      box.appendChild(invoices);
      box.appendChild(el("h3", "Reportes de pago abiertos"));
      const reports = el("ul");
      for (const r of customer.open_payment_reports) reports.appendChild(el("li", r.amount_text + " · " + r.bank + " · " + r.paid_on_text));
      if (!customer.open_payment_reports.length) reports.appendChild(el("li", "Ninguno."));
      box.appendChild(reports);
      box.appendChild(el("h3", "Atenciones anteriores"));
      const previous = el("ul");
      for (const p of customer.previous) {
        previous.appendChild(el("li", p.requested_text + " · " + p.status_text
          + (p.minutes ? " · " + p.minutes + " min" : "") + (p.topic ? " · " + p.topic : "") + (p.advisor ? " · " + p.advisor : "")));
      }
      if (!customer.previous.length) previous.appendChild(el("li", "Ninguna."));
      box.appendChild(previous);
    }

    function renderSuggestions(suggestions) {
      const list = document.getElementById("suggestions");
      list.replaceChildren();
      for (const s of suggestions) {
        const item = el("li");
        item.appendChild(el("strong", s.title));
        const body = el("p", s.text);
        body.tabIndex = 0; // it scrolls: keyboard users must be able to reach it
        item.appendChild(body);
        const insert = el("button", "Insertar en la respuesta");
        insert.type = "button";
        insert.addEventListener("click", () => {
          replyText.value = (replyText.value ? replyText.value + "\n\n" : "") + s.text;
          replyText.focus();
        });
        item.appendChild(insert);
        list.appendChild(item);
      }
      if (!suggestions.length) list.appendChild(el("li", "Sin sugerencias para el último mensaje."));
    }

    async function refresh() {
      const data = await api("GET", "/console/api/handoffs/" + id);
      if (!data) return;
      document.getElementById("title").textContent = data.customer ? data.customer.company : "Chat sin verificar";
      let meta = (CHANNEL[data.channel] || data.channel) + " · " + STATUS[data.status];
      if (data.advisor) meta += " · " + data.advisor;
      if (data.paid_consent) meta += " · Aceptó soporte pagado (" + data.paid_consent.hourly_total_text + " por hora con IVA)";
      document.getElementById("meta").textContent = meta;
      renderHistory(data.messages);
      renderCustomer(data.customer);
      renderSuggestions(data.suggestions);
      const mine = data.status === "active" && data.mine;
      claimButton.hidden = data.status !== "waiting";
      replyForm.hidden = !mine;
      closeForm.hidden = !mine;
      if (mine && !minutesTouched) minutes.value = data.suggested_minutes;
      // The topic is left for the advisor: the best article for the last message is often
      // unrelated to what the session was about, and a wrong topic is worse than none.
    }

    claimButton.addEventListener("click", async () => {
      show("", claimStatus);
      const done = await api("POST", "/console/api/handoffs/" + id + "/claim", null, claimStatus);
      if (done) show("Conversación tomada: ya puede responder.", replyStatus, "ok");
      refresh();
    });
    replyForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      show("", replyStatus);
      const sent = await api("POST", "/console/api/handoffs/" + id + "/reply", { text: replyText.value }, replyStatus);
      if (sent) {
        replyText.value = "";
        show("Mensaje enviado al cliente.", replyStatus, "ok");
      }
      refresh();
    });
    closeForm.addEventListener("submit", async (event) => {
      event.preventDefault();
      show("", closeStatus);
      const done = await api("POST", "/console/api/handoffs/" + id + "/close", {
        minutes: Number(minutes.value), topic: topic.value,
      }, closeStatus);
      if (done) {
        let text = "Atención cerrada: " + done.minutes + " min registrados.";
        if (done.charged) text += " Soporte pagado: " + done.charged.hours_billed + " h, " + done.charged.total_text + " con IVA.";
        else if (!done.logged) text += " Chat sin verificar: no se descontaron horas.";
        show(text, closeStatus, "ok");
      }
      refresh();
    });

    listen(refresh);
  }
})();
