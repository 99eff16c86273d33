// The dashboard's side of AppBridge (PROTOCOL.md e.1, e.3), for the stand-in harness.
// It plays one dashboard release (?dashboard=3.20.41, default from /harness/settings) and handles
// exactly the actions that release handles (saleor-dashboard's useAppActions.ts).
(async function () {
  "use strict";
  var query = new URLSearchParams(window.location.search);
  var settings = await (await fetch("/harness/settings" + (query.has("dashboard") ? "?dashboard=" + encodeURIComponent(query.get("dashboard")) : ""))).json();
  var appOrigin = new URL(settings.appUrl).origin;
  var appUrl = settings.appUrl + "/dashboard"; // the manifest's appUrl
  var theme = query.get("theme") === "dark" ? "dark" : "light";
  var frame = document.getElementById("app");
  var tokenQuery = new URLSearchParams({ kind: query.get("token") || "valid" });
  if (query.has("permissions")) tokenQuery.set("permissions", query.get("permissions"));
  var token = (await (await fetch("/harness/token?" + tokenQuery.toString())).json()).token;

  var ACTION_SINCE = {
    notifyReady: [3, 20, 0],
    notification: [3, 20, 0],
    redirect: [3, 20, 0],
    updateRouting: [3, 20, 0],
    requestPermissions: [3, 20, 0],
    formPayloadUpdate: [3, 22, 10],
    popupClose: [3, 22, 31],
    widgetResize: [3, 23, 8],
    refreshEntity: [3, 23, 9],
    openPopup: [3, 23, 19],
  };
  // Until this release an unknown action throws in the dashboard; from it on, it is only warned about.
  var UNKNOWN_ACTIONS_IGNORED_SINCE = [3, 22, 21];
  var versionText = settings.dashboardVersion;
  var version = versionText.split(".").map(Number);
  document.getElementById("dashboard-version").textContent = "stand-in " + versionText;

  function atLeast(since) {
    for (var i = 0; i < 3; i += 1) {
      if (version[i] !== since[i]) return version[i] > since[i];
    }
    return true;
  }

  // The dashboard keeps an app page at /apps/<id>/app/<sub-path of the app's URL>, as 3.20 does.
  var appAddress = "/apps/" + encodeURIComponent(settings.appId) + "/app";
  var onAppAddress = window.location.pathname.indexOf(appAddress) === 0;
  // The order the "Order card" link opens when the address names none: the store's latest.
  var orderId = query.get("orderId") || settings.orderId;
  var page = query.get("page");
  if (!page) page = onAppAddress ? "/dashboard" + window.location.pathname.slice(appAddress.length).replace(/\/$/, "") : "/dashboard";
  // The order page's card, where the app's manifest puts it for this release: a widget, or a popup.
  var orderCard = settings.orderCard.path;
  var isOrderCard = page.indexOf("/dashboard/order") === 0;
  var isPopup = settings.orderCard.popup && page === orderCard;
  document.getElementById("order-link").href = "?" + new URLSearchParams(
    Object.assign({ page: orderCard }, orderId ? { orderId: orderId } : {}, { dashboard: versionText })
  ).toString();

  // What the dashboard's `redirect` event tells the app: its sub-path on an app page, the order's path under it.
  function dashboardPath() {
    if (onAppAddress) return window.location.pathname.slice(appAddress.length) || "/";
    if (isOrderCard) return "/orders/" + encodeURIComponent(query.get("orderId") || "");
    return page.slice("/dashboard".length) || "/";
  }

  // The harness's own settings (theme, version, token) stay in the query; `page` gives way to the address.
  function harnessQuery() {
    var kept = new URLSearchParams(window.location.search);
    kept.delete("page");
    return kept.toString() ? "?" + kept.toString() : "";
  }

  function highlightMenu() {
    document.querySelectorAll("nav a[data-route]").forEach(function (link) {
      var route = link.dataset.route;
      link.href = appAddress + route + harnessQuery();
      var here = window.location.pathname.replace(/\/$/, "") === (appAddress + route).replace(/\/$/, "");
      if (here) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
  }

  function post(type, payload) {
    frame.contentWindow.postMessage({ type: type, payload: payload }, appOrigin);
  }

  function handshake() {
    post("handshake", { token: token, version: 1, saleorVersion: settings.saleorVersion, dashboardVersion: "v" + versionText });
    post("theme", { theme: theme });
    post("localeChanged", { locale: query.get("locale") || "en" });
    post("redirect", { path: dashboardPath() });
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
      link.href = "?" + new URLSearchParams({ page: orderCard, orderId: decodeURIComponent(match[1]), theme: theme, dashboard: versionText }).toString();
      link.textContent = path;
      item.appendChild(link);
    } else {
      item.textContent = path;
    }
    document.getElementById("redirects").appendChild(item);
  }

  function updateRouting(newRoute) {
    var address = appAddress + "/" + String(newRoute || "").replace(/^\/+/, "");
    if (window.location.pathname !== address) window.history.pushState(null, "", address + harnessQuery());
    highlightMenu();
  }

  function applyTheme() {
    document.documentElement.dataset.theme = theme;
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== appOrigin || !event.data || !event.data.type || !event.data.payload) return;
    var type = event.data.type;
    var payload = event.data.payload;
    var since = ACTION_SINCE[type];
    if (!since || !atLeast(since)) {
      record("refused", type, { action: type });
      if (!atLeast(UNKNOWN_ACTIONS_IGNORED_SINCE)) throw new Error("Unknown action type");
      console.warn(type + " action is invalid");
      return;
    }
    if (type === "notifyReady") handshake();
    else if (type === "notification") record("notifications", (payload.title || "") + ": " + (payload.text || ""), { status: payload.status || "info" });
    else if (type === "redirect") openOrderLink(payload.to);
    else if (type === "updateRouting") updateRouting(payload.newRoute);
    else if (type === "widgetResize" && payload.height > 0) frame.style.height = payload.height + "px";
    else if (type === "refreshEntity") record("refreshes", "refreshed", { at: String(Date.now()) });
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
  highlightMenu();
  frame.addEventListener("load", handshake);
  frame.src = appUrl + page.slice("/dashboard".length) + "?" + params.toString();
  if (isPopup) {
    // 3.20's AppDialog: the extension's label as the title over a frame 600 px high.
    var title = document.getElementById("dialog-title");
    title.textContent = settings.orderCard.label;
    title.hidden = false;
    frame.classList.add("popup");
  } else if (isOrderCard) {
    frame.classList.add("widget");
  }
})();
