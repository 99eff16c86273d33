// Loads the page's server-rendered fragment with the dashboard token and wires its links and forms.
(function () {
  "use strict";
  var bridge = window.SaleorOps;
  var container = document.getElementById("fragment");
  var page = document.body.dataset.page;
  // "page" (the app's own pages, with tabs), "widget" (the order page's card) or "popup" (its dialog).
  var mount = document.body.dataset.mount;

  // The fragment a tab or filter form inside the page asked for (data-fragment); reloads keep it. A link
  // from an assignee's e-mail opens Support at its ticket: the dashboard hands its query (?ticket=N) to the page.
  var linkedTicket = new URLSearchParams(window.location.search).get("ticket");
  var view = page === "support" && /^[0-9]{1,9}$/.test(linkedTicket || "")
    ? "/api/dashboard/fragments/support/ticket?id=" + linkedTicket
    : null;

  function fragmentUrl() {
    var target = new URL(view || "/api/dashboard/fragments/" + page, window.location.origin);
    target.searchParams.set("locale", bridge.state.locale);
    if (page === "order") target.searchParams.set("orderId", bridge.state.orderId || "");
    return target.pathname + target.search;
  }

  function show(fragment) {
    // Only the app's own fragments: never a URL that came from anywhere else.
    if (fragment.indexOf("/api/dashboard/fragments/") !== 0) return;
    view = fragment;
    load();
  }

  // A plain link cannot send the dashboard token, so a file is fetched with it and saved from memory.
  function download(link) {
    if (link.getAttribute("aria-busy") === "true") return;
    link.setAttribute("aria-busy", "true");
    bridge.appFetch(link.dataset.download).then(function (response) {
      if (!response.ok) {
        return response.text().then(function (text) {
          var body = null;
          try { body = JSON.parse(text); } catch (error) { body = null; }
          bridge.notify("error", "Saleor Ops", explain(response.status, body));
        });
      }
      var named = /filename="([^"]+)"/.exec(response.headers.get("content-disposition") || "");
      return response.blob().then(function (blob) {
        var url = URL.createObjectURL(blob);
        var save = document.createElement("a");
        save.href = url;
        save.download = named ? named[1] : "export.csv";
        document.body.appendChild(save);
        save.click();
        save.remove();
        setTimeout(function () { URL.revokeObjectURL(url); }, 1000);
      });
    }).catch(function () {
      bridge.notify("error", "Saleor Ops", "Saleor Ops is not reachable. Nothing was downloaded.");
    }).then(function () { link.removeAttribute("aria-busy"); });
  }

  function explain(status, body) {
    var detail = (body && body.error && body.error.message) || "";
    if (status === 401) {
      return "Saleor Ops could not verify your Saleor session. Reload this page from the Saleor dashboard. " + detail;
    }
    if (status === 403) return detail || "Your Saleor account lacks the permission this page needs.";
    return "Saleor Ops could not load this page (" + status + "). " + detail;
  }

  function showError(message) {
    container.replaceChildren();
    var box = document.createElement("p");
    box.className = "banner banner-error";
    box.setAttribute("role", "alert");
    box.dataset.error = "";
    box.textContent = message;
    container.appendChild(box);
    settle();
  }

  function settle() {
    container.setAttribute("aria-busy", "false");
    fitWidget();
  }

  // The widget asks the dashboard for just the height its content needs; a popup's size is the dashboard's.
  function fitWidget() {
    if (mount === "widget") bridge.resize(document.querySelector("main").getBoundingClientRect().bottom);
  }

  // Its content also changes height without a load: text rewraps once the fitted widget loses its
  // scrollbar (and grows wider), or a person opens a details element.
  if (mount === "widget" && window.ResizeObserver) {
    new ResizeObserver(fitWidget).observe(document.querySelector("main"));
  }

  var lastStatus = 0;
  var refusedToken = null; // the token a page was last refused for: only another one is worth a retry
  var started = false;
  var loads = 0;

  // Parts a fragment loads on their own (data-include): an order's card beside its ticket, the order's
  // tickets on its card. Each is one of the app's fragments; a form inside one redraws only that part.
  function includeAll(root) {
    root.querySelectorAll("[data-include]").forEach(function (box) {
      var path = box.dataset.include;
      if (path.indexOf("/api/dashboard/fragments/") !== 0) return;
      var target = new URL(path, window.location.origin);
      target.searchParams.set("locale", bridge.state.locale);
      bridge.appFetch(target.pathname + target.search).then(function (response) {
        return response.text().then(function (html) {
          if (response.ok) {
            box.innerHTML = html; // server-rendered with autoescaping, like the page around it
            includeAll(box);
          } else {
            var note = document.createElement("p");
            note.className = "muted small";
            note.textContent = "This part could not be loaded (" + response.status + ").";
            box.replaceChildren(note);
          }
          settle();
        });
      }, function () { box.replaceChildren(); });
    });
  }

  function render(response, target) {
    var into = target || container;
    if (into === container) lastStatus = response.status;
    var type = response.headers.get("content-type") || "";
    if (type.indexOf("text/html") === 0 && (response.ok || response.status === 422)) {
      return response.text().then(function (html) {
        into.innerHTML = html; // server-rendered with autoescaping; CSP blocks inline scripts
        includeAll(into);
        settle();
        return response;
      });
    }
    return response.text().then(function (text) {
      var body = null;
      try { body = JSON.parse(text); } catch (error) { body = null; }
      showError(explain(response.status, body));
      return response;
    });
  }

  function load() {
    if (page === "order" && !bridge.state.orderId) {
      showError("Open this card from an order in the Saleor dashboard.");
      return;
    }
    container.setAttribute("aria-busy", "true");
    // Only the latest load may draw: the dashboard's address can switch the tab while the first page is on its way.
    var ticket = ++loads;
    var token = bridge.state.token;
    bridge.appFetch(fragmentUrl()).then(function (response) {
      if (response.status === 401) refusedToken = token;
      return ticket === loads ? render(response) : response;
    }, function () {
      if (ticket === loads) showError("Saleor Ops is not reachable. Check your connection and reload.");
    });
  }

  // Each tab's address under the app's URL, as the dashboard keeps it ("/" is the app's home).
  function routeOf(target) {
    return target === "home" ? "/" : "/" + target;
  }

  // The tab a dashboard path names. Its last segment: a dashboard served under a prefix (/dashboard/)
  // leaves that prefix in the path it sends (3.20's resolveAppDeepPathFromDashboardUrl).
  function pageOf(route) {
    var segments = route.split("?")[0].split("/").filter(Boolean);
    var name = segments.length ? segments[segments.length - 1] : "home";
    return document.querySelector('[data-page-link="' + CSS.escape(name) + '"]') ? name : null;
  }

  function switchTo(target) {
    page = target;
    view = null;
    document.body.dataset.page = target;
    document.querySelectorAll("[data-page-link]").forEach(function (link) {
      if (link.dataset.pageLink === target) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    if (started) load();
  }

  document.addEventListener("click", function (event) {
    var link = event.target.closest("a[data-page-link], a[data-redirect], a[data-fragment], a[data-download]");
    if (!link) return;
    event.preventDefault();
    if (link.dataset.pageLink) {
      switchTo(link.dataset.pageLink);
      // The dashboard's address follows, so a reload (and its menu) comes back to this tab.
      bridge.updateRouting(routeOf(page));
    }
    else if (link.dataset.fragment) show(link.dataset.fragment);
    else if (link.dataset.download) download(link);
    else bridge.redirect(link.dataset.redirect);
  });

  // A row editor (boxes, sizes): a new row copied from its <template>, a row's Remove takes it out.
  document.addEventListener("click", function (event) {
    var add = event.target.closest("button[data-add-row]");
    var remove = event.target.closest("button[data-remove-row]");
    if (add) {
      var template = document.getElementById(add.dataset.addRow + "-template");
      document.getElementById(add.dataset.addRow).appendChild(template.content.cloneNode(true));
    } else if (remove) {
      remove.closest("tr").remove();
    }
  });

  // A filter form asks for a fragment with its fields as the query (empty fields left out).
  document.addEventListener("submit", function (event) {
    var filter = event.target.closest("form[data-fragment]");
    if (!filter) return;
    event.preventDefault();
    var query = new URLSearchParams();
    new FormData(filter).forEach(function (value, name) { if (value !== "") query.append(name, value); });
    show(filter.dataset.fragment + (query.toString() ? "?" + query.toString() : ""));
  });

  document.addEventListener("submit", function (event) {
    var form = event.target.closest("form[data-action]");
    if (!form) return;
    event.preventDefault();
    // The clicked button's name and value (approve or reject) travel with the form: read them before
    // the button is disabled, since a disabled button sends nothing.
    var fields = new FormData(form, event.submitter);
    var button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    var url = form.dataset.action + "?" + new URLSearchParams({ locale: bridge.state.locale }).toString();
    // A file goes as multipart (the browser sets the boundary); everything else as a plain form.
    var request = form.enctype === "multipart/form-data"
      ? { method: "POST", body: fields }
      : {
          method: "POST",
          headers: { "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams(fields),
        };
    var part = form.closest("[data-include]");
    bridge.appFetch(url, request).then(function (response) { return render(response, part); }).then(function (response) {
      var notice = response.headers.get("x-ops-notice");
      if (response.ok) {
        bridge.notify("success", "Saleor Ops", notice || "Saved.");
        if (response.headers.get("x-ops-order-changed")) bridge.refreshEntity();
      } else if (response.status === 422) {
        bridge.notify("error", "Saleor Ops", notice || "Nothing was saved: check the marked fields.");
      }
    }, function () {
      showError("Saleor Ops is not reachable. Nothing was saved.");
    });
  });

  bridge.on("token", function () {
    // A refreshed token retries a page that was refused for an expired one (the same token again would
    // only be refused again, and an unknown key's second check within the refetch window is a 503).
    if (!started || (lastStatus === 401 && bridge.state.token !== refusedToken)) { started = true; load(); }
  });
  bridge.on("locale", function () { if (started && lastStatus !== 401) load(); });
  // The dashboard's address names the tab to show (a reload, a bookmark); the order's card has no tabs.
  bridge.on("route", function (state) {
    var target = mount === "page" ? pageOf(state.route) : null;
    if (target && target !== page) switchTo(target);
  });
})();
