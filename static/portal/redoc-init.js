// Starts ReDoc on /api/redoc/ (templates/api/redoc.html). ReDoc writes its CSS into <style>
// elements as it renders; the CSP lets through only those carrying this page's nonce, which
// ReDoc puts on them when given as an option. The nonce is read from this script element.
(function () {
  "use strict";
  var container = document.getElementById("redoc-container");
  Redoc.init(container.getAttribute("data-spec-url"), { nonce: document.currentScript.nonce }, container);
})();
