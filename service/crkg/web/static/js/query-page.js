/* The crkg query page: YASGUI wired to this service only.
 *
 * - the endpoint of every tab is this service's /sparql (also for tabs restored from
 *   localStorage or a share link), and the endpoint catalogue lists only it;
 * - the class/property autocompleters, which ask the Linked Open Vocabularies API, are
 *   switched off; prefixes autocomplete from the list bundled in yasgui.min.js
 *   (prefixCcApi stays unset), so typing never reaches another host;
 * - the competency questions are buttons that open (or re-select) a tab and run it.
 */
(function () {
  "use strict";

  var config = JSON.parse(document.getElementById("crkg-query-config").textContent);
  var endpoint = new URL(config.endpoint, window.location.href).toString();
  var root = document.getElementById("yasgui");

  // Yasgui.defaults.yasqe is Yasqe.defaults; Yasgui merges configs with lodash.merge,
  // which merges arrays index by index, so the list must be replaced here, not in config.
  Yasgui.Yasqe.defaults.autocompleters = ["variables", "prefixes"];
  Yasgui.Yasqe.defaults.prefixCcApi = null;
  Yasgui.Yasqe.defaults.value = config.startQuery;

  // Result tables link IRIs to where they resolve: crkg IRIs to their pages on this
  // deployment (the same mapping as the Linked Data pages), others unchanged.
  var iris = config.iris;
  function pageFor(iri) {
    if (iri === iris.ontology) return iris.pages + "ontology";
    if (iri.indexOf(iris.terms) === 0) return iris.pages + "ontology/" + encodeURIComponent(iri.slice(iris.terms.length));
    if (iri.indexOf(iris.base + "id/") === 0 || iri.indexOf(iris.base + "graph/") === 0) {
      return iris.pages + iri.slice(iris.base.length);
    }
    return null;
  }
  var Table = Yasgui.Yasr.plugins.table;
  if (Table && Table.prototype.getUriLinkFromBinding) {
    var link = Table.prototype.getUriLinkFromBinding;
    Table.prototype.getUriLinkFromBinding = function (binding, prefixes) {
      var html = link.call(this, binding, prefixes);
      var page = pageFor(binding.value);
      if (!page) return html;
      var a = document.createElement("a");
      a.href = page;
      // the HTML has been through DOMPurify, which re-quotes attributes with "
      return html.replace(/href=(["'])[^"']*\1/, 'href="' + a.href.replace(/"/g, "%22") + '"');
    };
  }

  var yasgui = new Yasgui(root, {
    requestConfig: { endpoint: endpoint, method: "POST" },
    copyEndpointOnNewTab: true,
    endpointCatalogueOptions: {
      getData: function () { return [{ endpoint: endpoint }]; },
    },
    corsProxy: undefined,
    persistenceId: "crkg",
    autofocus: false,
  });

  function pinEndpoint(tab) {
    if (tab && tab.getEndpoint() !== endpoint) {
      tab.setEndpoint(endpoint);
    }
  }
  Object.keys(yasgui._tabs).forEach(function (id) { pinEndpoint(yasgui._tabs[id]); });
  yasgui.on("tabAdd", function (instance, id) { pinEndpoint(instance.getTab(id)); });
  yasgui.on("tabSelect", function (instance, id) { pinEndpoint(instance.getTab(id)); });

  function shortName(title) {
    return title.length > 32 ? title.slice(0, 31) + "…" : title;
  }

  var byName = {};
  config.examples.forEach(function (example) { byName[example.name] = example; });

  document.querySelectorAll("button.example").forEach(function (button) {
    button.addEventListener("click", function () {
      var example = byName[button.dataset.example];
      if (!example) return;
      yasgui.addTab(
        true,
        {
          name: shortName(example.title),
          yasqe: { value: example.query },
          requestConfig: { endpoint: endpoint },
        },
        { avoidDuplicateTabs: true }
      );
      // addTab with avoidDuplicateTabs returns the previously active tab when it re-selects
      // an existing one; the tab to run is the active one.
      var tab = yasgui.getTab();
      pinEndpoint(tab);
      tab.query().catch(function () {});
    });
  });

  window.crkgYasgui = yasgui; // for the browser test and for users' consoles
})();
