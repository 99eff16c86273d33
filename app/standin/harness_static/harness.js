// The dashboard's side of AppBridge (PROTOCOL.md e.1, e.3), for the stand-in harness.
(async function () {
  "use strict";
  var query = new URLSearchParams(window.location.search);
  var settings = await (await fetch("/harness/settings")).json();
  var appOrigin = new URL(settings.appUrl).origin;
  var theme = query.get("theme") === "dark" ? "dark" : "light";
  var frame = document.getElementById("app");
  var tokenQuery = new URLSearchParams({ kind: query.get("token") || "valid" });
  if (query.has("permissions")) tokenQuery.set("permissions", query.get("permissions"));
  var token = (await (await fetch("/harness/token?" + tokenQuery.toString())).json()).token;
  var page = query.get("page") || "/dashboard";
  var orderId = query.get("orderId") || settings.orderId;
  if (orderId) {
    document.getElementById("order-link").href = "?page=/dashboard/order&orderId=" + encodeURIComponent(orderId);
  }

  function post(type, payload) {
    frame.contentWindow.postMessage({ type: type, payload: payload }, appOrigin);
  }

  function handshake() {
    post("handshake", { token: token, version: 1, saleorVersion: settings.saleorVersion, dashboardVersion: "stand-in" });
    post("theme", { theme: theme });
    post("localeChanged", { locale: query.get("locale") || "en" });
  }

  function record(listId, text, attrs) {
    var item = document.createElement("li");
    item.textContent = text;
    Object.keys(attrs || {}).forEach(function (key) { item.dataset[key] = attrs[key]; });
    document.getElementById(listId).appendChild(item);
  }

  // The dashboard would open the order's page, where the app's card sits; here a link does.
  function openOrderLink(path) {
    var item = document.createElement("li");
    var match = /^\/orders\/([^/?#]+)/.exec(path || "");
    if (match) {
      var link = document.createElement("a");
      link.href = "?" + new URLSearchParams({ page: "/dashboard/order", orderId: decodeURIComponent(match[1]), theme: theme }).toString();
      link.textContent = path;
      item.appendChild(link);
    } else {
      item.textContent = path;
    }
    document.getElementById("redirects").appendChild(item);
  }

  function applyTheme() {
    document.documentElement.dataset.theme = theme;
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== appOrigin || !event.data || !event.data.payload) return;
    var type = event.data.type;
    var payload = event.data.payload;
    if (type === "notifyReady") handshake();
    else if (type === "notification") record("notifications", (payload.title || "") + ": " + (payload.text || ""), { status: payload.status || "info" });
    else if (type === "redirect") openOrderLink(payload.to);
    else if (type === "widgetResize" && payload.height > 0) frame.style.height = payload.height + "px";
    post("response", { actionId: payload.actionId, ok: true });
  });

  document.getElementById("theme-toggle").addEventListener("click", function () {
    theme = theme === "dark" ? "light" : "dark";
    applyTheme();
    post("theme", { theme: theme });
  });

  var params = new URLSearchParams({
    domain: new URL(settings.saleorApiUrl).host,
    saleorApiUrl: settings.saleorApiUrl,
    id: settings.appId,
    theme: theme,
  });
  if (query.has("orderId")) params.set("orderId", query.get("orderId"));
  applyTheme();
  frame.addEventListener("load", handshake);
  frame.src = settings.appUrl + page + "?" + params.toString();
  if (page === "/dashboard/order") frame.classList.add("widget");
})();
