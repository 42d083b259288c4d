/* Laoke member H5 pages: plain JS calling /api/v1/me/ with the session cookie.
   Every write sends X-Laoke-H5: 1 (the API's CSRF rule for cookie sessions). */
(function () {
  "use strict";
  var T = JSON.parse(document.getElementById("i18n").textContent);
  var page = document.body.dataset.page;
  var lang = document.body.dataset.lang || "zh-hans";
  var API = "/api/v1/me";

  function $(id) { return document.getElementById(id); }
  function yuan(fen) { return "¥" + (fen / 100).toFixed(2); }
  function when(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleString(lang === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai", dateStyle: "medium", timeStyle: "short" });
  }
  function day(iso) {
    if (!iso) return "";
    return new Date(iso).toLocaleDateString(lang === "en" ? "en-GB" : "zh-CN", { timeZone: "Asia/Shanghai" });
  }
  function text(id, value) { var el = $(id); if (el) el.textContent = value; }
  function showError(msg) { var el = $("error"); el.textContent = msg; el.hidden = !msg; }
  function ok(id, msg) { var el = $(id); el.textContent = msg; el.hidden = false; }
  function li(html) { var el = document.createElement("li"); el.innerHTML = html; return el; }
  function esc(s) { return String(s == null ? "" : s).replace(/[&<>"']/g, function (c) { return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]; }); }
  function key() { return (window.crypto && crypto.randomUUID) ? crypto.randomUUID() : String(Date.now()) + Math.random(); }

  function call(method, path, body, extra) {
    showError("");
    var headers = { "Accept": "application/json", "Accept-Language": lang };
    if (method !== "GET") { headers["Content-Type"] = "application/json"; headers["X-Laoke-H5"] = "1"; }
    Object.assign(headers, extra || {});
    return fetch(API + path, { method: method, headers: headers, credentials: "same-origin", body: method === "GET" ? undefined : JSON.stringify(body || {}) })
      .then(function (r) {
        return r.text().then(function (t) {
          var data = t ? JSON.parse(t) : null;
          if (r.status === 401 && page !== "login") { location.href = "/m/login/"; throw new Error("401"); }
          if (!r.ok) { showError((data && data.message) || T.network); var e = new Error(data && data.code); e.data = data; throw e; }
          return data;
        });
      }, function (err) { showError(T.network); throw err; });
  }
  function quiet(p) { return p.catch(function () {}); }

  function loadSummary() {
    return call("GET", "").then(function (me) {
      text("name", me.name || me.mobile || "");
      text("code", me.code);
      text("total", yuan(me.wallet.total_fen));
      text("paid", yuan(me.wallet.paid_fen));
      text("bonus", yuan(me.wallet.bonus_fen));
      text("points", me.points.balance);
      if (me.points.expiring) text("expiring", me.points.expiring + " " + T.expiring + " " + day(me.points.first_expiry));
      if (me.tier) {
        if ($("tier-card")) $("tier-card").hidden = false;
        text("tier-name", me.tier.name);
        var n = me.tier.next;
        if (n) {
          var missing = n.rule.indexOf("cumulative") === 0 ? yuan(n.missing) : n.missing;
          text("tier-next", n.name + " · " + missing + " " + T.toNext);
          if ($("tier-bar")) $("tier-bar").style.width = n.percent + "%";
        } else {
          text("tier-next", T.top);
          if ($("tier-bar")) $("tier-bar").style.width = "100%";
        }
      }
      return me;
    });
  }

  var pages = {
    login: function () {
      var form = $("login-form");
      quiet(call("GET", "/login/agreement").then(function (a) {
        text("agreement-title", a.title || "");
        text("agreement-body", a.body || "");
      }));
      $("send-code").addEventListener("click", function () {
        quiet(call("POST", "/login/code", { mobile: $("mobile").value }).then(function () {
          var h = $("hint"); h.textContent = T.sent; h.className = "ok";
          $("code").focus();
        }));
      });
      form.addEventListener("submit", function (ev) {
        ev.preventDefault();
        var body = { mobile: $("mobile").value, code: $("code").value, accept_agreement: $("agree").checked, referrer: form.dataset.ref || "" };
        quiet(call("POST", "/login", body).then(function () { location.href = "/m/"; }, function (e) {
          if (e.data && e.data.code === "LOGIN_AGREEMENT_REQUIRED") $("agreement").hidden = false;
        }));
      });
    },
    home: function () {
      quiet(loadSummary());
      quiet(call("GET", "/coupons?state=issued").then(function (rows) {
        var ul = $("coupons");
        if (!rows.length) ul.appendChild(li('<span class="muted">' + esc(T.none) + "</span>"));
        rows.forEach(function (c) {
          ul.appendChild(li("<b>" + esc(c.name) + '</b> <span class="muted">' + esc(c.code) + " · " + day(c.valid_to) + "</span>"));
        });
      }));
    },
    recharge: function () {
      $("recharge-form").addEventListener("submit", function (ev) {
        ev.preventDefault();
        var btn = $("recharge"); btn.disabled = true;
        quiet(call("POST", "/recharge", { card_no: $("card-no").value, pin: $("pin").value }, { "Idempotency-Key": key() })
          .then(function (r) {
            ok("result", T.recharged + " " + yuan(r.amount_fen) + " · " + yuan(r.paid_fen + r.bonus_fen));
            $("pin").value = "";
          }).finally(function () { btn.disabled = false; }));
      });
    },
    packages: function () {
      quiet(call("GET", "/packages").then(function (data) {
        var sel = $("provider");
        data.providers.forEach(function (p) { var o = document.createElement("option"); o.value = p; o.textContent = p === "alipay" ? "支付宝 Alipay" : "微信支付 WeChat Pay"; sel.appendChild(o); });
        var ul = $("packages");
        if (!data.packages.length) ul.appendChild(li('<span class="muted">' + esc(T.none) + "</span>"));
        data.packages.forEach(function (p) {
          var el = li("<div><b>" + esc(p.name) + "</b><br><span class=\"muted\">" + yuan(p.price_fen) + " + " + yuan(p.bonus_fen) + " " + esc(T.bonus) + '</span></div><button class="buy" data-id="' + p.id + '">' + esc(T.buy) + "</button>");
          ul.appendChild(el);
        });
        ul.addEventListener("click", function (ev) {
          var b = ev.target.closest("button.buy"); if (!b) return;
          b.disabled = true;
          quiet(call("POST", "/packages/" + b.dataset.id + "/buy", { provider: sel.value, return_url: location.origin + "/m/result/" }, { "Idempotency-Key": key() })
            .then(function (r) {
              sessionStorage.setItem("laoke.purchase", String(r.purchase_id));
              location.href = r.pay_url;
            }, function () { b.disabled = false; }));
        });
      }));
    },
    result: function () {
      var id = new URLSearchParams(location.search).get("purchase") || sessionStorage.getItem("laoke.purchase");
      var tries = 0;
      function poll() {
        quiet(call("GET", "/purchases/" + encodeURIComponent(id)).then(function (p) {
          text("purchase-name", p.name);
          if (p.state === "paid") { text("state", T.paid); loadSummary(); return; }
          if (p.state === "closed") { text("state", T.notPaid); return; }
          text("state", T.waiting);
          if (++tries < 60) setTimeout(poll, 1000);
        }));
      }
      if (id) poll();
      quiet(loadSummary());
    },
    signin: function () {
      $("signin").addEventListener("click", function () {
        quiet(call("POST", "/signin").then(function (s) {
          ok("result", "+" + (s.points + s.bonus) + " " + T.points + " · " + T.streak + ": " + s.streak);
        }));
      });
    },
    gifts: function () {
      function load() {
        return call("GET", "/gifts").then(function (g) {
          text("balance", g.balance);
          text("window", g.window_open ? "" : T.closed);
          var ul = $("gifts"); ul.innerHTML = "";
          if (!g.offers.length) ul.appendChild(li('<span class="muted">' + esc(T.none) + "</span>"));
          g.offers.forEach(function (o) {
            var can = g.window_open && o.in_stock && g.balance >= o.points;
            ul.appendChild(li("<div><b>" + esc(o.gift) + "</b><br><span class=\"muted\">" + esc(o.store) + " · " + o.points + " " + esc(T.points) + (o.in_stock ? "" : " · " + esc(T.outOfStock)) + '</span></div><button class="redeem" data-id="' + o.id + '"' + (can ? "" : " disabled") + ">" + esc(T.redeem) + "</button>"));
          });
        });
      }
      quiet(load());
      $("gifts").addEventListener("click", function (ev) {
        var b = ev.target.closest("button.redeem"); if (!b) return;
        b.disabled = true;
        quiet(call("POST", "/gifts/" + b.dataset.id + "/redeem", {}, { "Idempotency-Key": key() }).then(load));
      });
    },
    receipt: function () {
      quiet(call("GET", "/stores").then(function (rows) {
        rows.forEach(function (s) { var o = document.createElement("option"); o.value = s.id; o.textContent = s.name; $("store").appendChild(o); });
      }));
      $("receipt-form").addEventListener("submit", function (ev) {
        ev.preventDefault();
        var at = $("purchased-at").value; // local Shanghai time typed by the member
        var body = {
          store_id: Number($("store").value),
          receipt_no: $("receipt-no").value,
          paid_fen: Math.round(parseFloat($("paid-yuan").value || "0") * 100),
          purchased_at: at ? at + ":00+08:00" : null
        };
        quiet(call("POST", "/receipts", body).then(function () { ok("result", T.claimed); }));
      });
    },
    referral: function () {
      quiet(call("GET", "/referral").then(function (r) {
        $("qr").src = r.qr_svg; $("link").value = r.link; text("code", r.code); text("referred", r.referred);
      }));
    },
    settings: function () {
      quiet(call("GET", "/agreement").then(function (a) {
        text("agreement-title", a.title || ""); text("agreement-body", a.body || "");
        text("agreement-state", a.version ? (a.version + " · " + (a.accepted ? T.accepted : T.notAccepted)) : "");
      }));
      document.querySelectorAll("button.unsub").forEach(function (b) {
        b.addEventListener("click", function () {
          quiet(call("POST", "/unsubscribe", { channel: b.dataset.channel }).then(function () { ok("result", T.unsubscribed + ": " + b.dataset.channel); }));
        });
      });
      $("logout").addEventListener("click", function () {
        quiet(call("POST", "/logout").then(function () { location.href = "/m/login/"; }));
      });
    },
    history: function () {
      var cursor = null;
      function load() {
        return call("GET", "/history?limit=20" + (cursor ? "&cursor=" + encodeURIComponent(cursor) : "")).then(function (h) {
          var ul = $("history");
          if (!h.items.length && !cursor) ul.appendChild(li('<span class="muted">' + esc(T.none) + "</span>"));
          h.items.forEach(function (it) {
            var amount = it.unit === "fen" ? yuan(it.amount) : (it.amount > 0 ? "+" : "") + it.amount + " " + T.points;
            ul.appendChild(li("<div><b>" + esc(T.kinds[it.kind] || it.kind) + "</b> " + esc(it.title) + '<br><span class="muted">' + when(it.at) + '</span></div><span class="' + (it.amount < 0 ? "minus" : "plus") + '">' + esc(amount) + "</span>"));
          });
          cursor = h.next_cursor;
          $("more").hidden = !cursor;
        });
      }
      $("more").addEventListener("click", function () { quiet(load()); });
      quiet(load());
    }
  };
  if (pages[page]) pages[page]();
})();
