// A small AppBridge client (PROTOCOL.md e.3): the token arrives by postMessage
// from the dashboard that embeds this page, never through a cookie.
(function () {
  "use strict";
  var params = new URLSearchParams(window.location.search);
  var dashboardOrigin = document.referrer ? new URL(document.referrer).origin : null;
  var state = {
    saleorApiUrl: params.get("saleorApiUrl"),
    appId: params.get("id"),
    theme: params.get("theme") === "dark" ? "dark" : "light",
    token: null,
  };
  var waiting = [];

  function applyTheme(theme) {
    state.theme = theme === "dark" ? "dark" : "light";
    document.documentElement.dataset.theme = state.theme;
  }

  function actionId() {
    return window.crypto && crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random();
  }

  function send(type, payload) {
    var message = { type: type, payload: Object.assign({ actionId: actionId() }, payload || {}) };
    window.parent.postMessage(message, dashboardOrigin || "*");
  }

  window.addEventListener("message", function (event) {
    if (!dashboardOrigin || event.origin !== dashboardOrigin) return;
    var data = event.data || {};
    var payload = data.payload || {};
    if ((data.type === "handshake" || data.type === "tokenRefresh") && payload.token) {
      state.token = payload.token;
      waiting.splice(0).forEach(function (resolve) { resolve(state.token); });
    } else if (data.type === "theme") {
      applyTheme(payload.theme);
    }
  });

  function token() {
    if (state.token) return Promise.resolve(state.token);
    return new Promise(function (resolve) { waiting.push(resolve); });
  }

  // Calls the app's own API with the dashboard token, as app-sdk's fetch does.
  function appFetch(path, init) {
    return token().then(function (jwt) {
      var options = Object.assign({}, init || {});
      options.headers = Object.assign({}, options.headers || {}, {
        "authorization-bearer": jwt,
        "saleor-api-url": state.saleorApiUrl || "",
      });
      return fetch(path, options);
    });
  }

  applyTheme(state.theme);
  window.SaleorOps = {
    state: state,
    appFetch: appFetch,
    notify: function (status, title, text) { send("notification", { status: status, title: title, text: text }); },
  };
  send("notifyReady", {});
})();
