(function () {
  "use strict";
  var section = document.getElementById("status");

  function line(label, value) {
    var row = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = label + ": ";
    row.appendChild(strong);
    row.appendChild(document.createTextNode(value));
    return row;
  }

  window.SaleorOps.appFetch("/api/dashboard/status")
    .then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    })
    .then(function (result) {
      section.replaceChildren();
      if (!result.ok) {
        section.appendChild(line("Not available", (result.body.error || {}).message || "unknown error"));
        return;
      }
      var status = result.body;
      section.appendChild(line("Store", status.saleor_api_url));
      section.appendChild(line("Saleor version", status.saleor_version || "unknown"));
      section.appendChild(line("Installed", new Date(status.installed_at).toLocaleString()));
      section.appendChild(line("Order events received", String(status.order_events)));
      section.appendChild(line("Signed in as", status.staff_email));
    });
})();
