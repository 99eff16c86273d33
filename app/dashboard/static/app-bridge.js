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
    route: null,
    theme: params.get("theme") === "dark" ? "dark" : "light",
    locale: params.get("locale") || "en",
    token: null,
    // The dashboard's release, from the handshake; null until then (or when it does not say).
    dashboardVersion: null,
  };
  var listeners = { token: [], locale: [], theme: [], route: [] };

  // The first dashboard release that handles each action (saleor-dashboard's useAppActions.ts);
  // up to 3.22.20 any other action throws "Unknown action type" in the dashboard, later ones ignore it.
  var ACTION_SINCE = {
    notifyReady: [3, 20, 0],
    notification: [3, 20, 0],
    redirect: [3, 20, 0],
    updateRouting: [3, 20, 0],
    widgetResize: [3, 23, 8],
    refreshEntity: [3, 23, 9],
  };

  // "v3.20.41" or "3.23.9" as [3, 20, 41]; anything else (a custom build's name) is unknown.
  function parseVersion(text) {
    var match = /^v?(\d+)\.(\d+)\.(\d+)/.exec(typeof text === "string" ? text : "");
    return match ? [Number(match[1]), Number(match[2]), Number(match[3])] : null;
  }

  function atLeast(version, since) {
    for (var i = 0; i < 3; i += 1) {
      if (version[i] !== since[i]) return version[i] > since[i];
    }
    return true;
  }

  // An unknown dashboard is taken for the oldest we support: it gets only what every one handles.
  function supports(type) {
    var since = ACTION_SINCE[type];
    if (!since) return false;
    var version = parseVersion(state.dashboardVersion);
    return atLeast(version || [3, 20, 0], since);
  }

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
    if (!dashboardOrigin || window.parent === window || !supports(type)) return;
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
        if (data.type === "handshake" && typeof payload.dashboardVersion === "string") {
          state.dashboardVersion = payload.dashboardVersion;
        }
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
      case "redirect":
        // The app's own sub-path in the dashboard's address (e.g. "/reviews"), sent after the handshake.
        if (typeof payload.path === "string") {
          state.route = payload.path;
          emit("route");
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
    // newRoute is relative to the app's URL: the dashboard shows it under its own address for the app.
    updateRouting: function (newRoute) { send("updateRouting", { newRoute: newRoute }); },
  };
  send("notifyReady", {});
})();
