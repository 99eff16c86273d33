// AppBridge for server-rendered pages (PROTOCOL.md e.1, e.3), written for Saleor Ops.
// The dashboard that frames this page hands it a JWT by postMessage; we accept
// messages only from that dashboard's origin and never keep the token anywhere
// but in memory.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var dashboardOrigin = null;
  try {
    dashboardOrigin = document.referrer ? new URL(document.referrer).origin : null;
  } catch (error) {
    dashboardOrigin = null;
  }
  var state = {
    saleorApiUrl: params.get("saleorApiUrl"),
    appId: params.get("id"),
    orderId: params.get("orderId"),
    theme: params.get("theme") === "dark" ? "dark" : "light",
    locale: params.get("locale") || "en",
    token: null,
  };
  var listeners = { token: [], locale: [], theme: [] };

  function emit(kind) {
    listeners[kind].forEach(function (listener) { listener(state); });
  }

  function applyTheme(theme) {
    state.theme = theme === "dark" ? "dark" : "light";
    document.documentElement.dataset.theme = state.theme;
  }

  function actionId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return String(Date.now()) + "-" + Math.random().toString(16).slice(2);
  }

  function send(type, payload) {
    if (!dashboardOrigin || window.parent === window) return;
    var message = { type: type, payload: Object.assign({ actionId: actionId() }, payload || {}) };
    window.parent.postMessage(message, dashboardOrigin);
  }

  window.addEventListener("message", function (event) {
    if (!dashboardOrigin || event.origin !== dashboardOrigin) return;
    var data = event.data || {};
    var payload = data.payload || {};
    switch (data.type) {
      case "handshake":
      case "tokenRefresh":
        if (typeof payload.token === "string" && payload.token) {
          state.token = payload.token;
          emit("token");
        }
        break;
      case "theme":
        applyTheme(payload.theme);
        emit("theme");
        break;
      case "localeChanged":
        if (typeof payload.locale === "string" && payload.locale && payload.locale !== state.locale) {
          state.locale = payload.locale;
          document.documentElement.lang = payload.locale;
          emit("locale");
        }
        break;
      default:
        break;
    }
  });

  // Calls the app's own API with the dashboard token, the way app-sdk's fetch does.
  function appFetch(path, init) {
    var options = Object.assign({}, init || {});
    options.headers = Object.assign({}, options.headers || {}, {
      "authorization-bearer": state.token || "",
      "saleor-api-url": state.saleorApiUrl || "",
    });
    options.credentials = "omit";
    return window.fetch(path, options);
  }

  applyTheme(state.theme);
  window.SaleorOps = {
    state: state,
    on: function (kind, listener) { listeners[kind].push(listener); },
    appFetch: appFetch,
    // "alert" is blocked by the dashboard's iframe sandbox; notifications are the way to speak.
    notify: function (status, title, text) { send("notification", { status: status, title: title, text: text }); },
    redirect: function (to, newContext) { send("redirect", { to: to, newContext: Boolean(newContext) }); },
    refreshEntity: function () { send("refreshEntity", {}); },
    resize: function (height) { if (height > 0) send("widgetResize", { height: Math.ceil(height) }); },
  };
  send("notifyReady", {});
})();
