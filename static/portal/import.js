// The support console's import: the export uploaded with its progress, then the import's own progress as the
// server tells it (one JSON line per step, application/x-ndjson), then the result or the refusal in place.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  if (!form || !window.fetch || !window.XMLHttpRequest) return;
  var box = document.getElementById("import-progress");
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-progress-text]");
  var result = document.getElementById("import-result");
  var texts = document.getElementById("import-texts").content;
  var say = function (name) { return texts.querySelector("[data-" + name + "]").textContent; };
  var show = function (event) {
    if (event.stage === "read") { bar.removeAttribute("value"); text.textContent = say("read"); return; }
    if (event.stage === "users" || event.stage === "done") {
      bar.max = Math.max(event.total, 1); bar.value = event.done;
      text.textContent = say("users") + " " + event.done.toLocaleString() + " / " + event.total.toLocaleString();
    }
  };
  var refused = function (event) {
    var div = document.createElement("div");
    div.className = "form-error"; div.setAttribute("role", "alert"); div.setAttribute("data-testid", "import-refused");
    var p = document.createElement("p"); p.textContent = event.refused; div.appendChild(p);
    if (event.errors.length) {
      var ul = document.createElement("ul");
      event.errors.forEach(function (line) {
        var li = document.createElement("li"); var code = document.createElement("code");
        code.textContent = line; li.appendChild(code); ul.appendChild(li);
      });
      div.appendChild(ul);
    }
    result.replaceChildren(div);
  };
  form.addEventListener("submit", function (submit) {
    submit.preventDefault();
    var button = form.querySelector("button[type=submit]");
    button.disabled = true; box.hidden = false; result.replaceChildren();
    var xhr = new XMLHttpRequest();
    var seen = 0;
    xhr.open("POST", form.action);
    xhr.setRequestHeader("Accept", "application/x-ndjson");
    xhr.upload.onprogress = function (e) {
      if (e.lengthComputable) { bar.max = e.total; bar.value = e.loaded; text.textContent = say("uploading"); }
    };
    var read = function () {
      var lines = xhr.responseText.slice(seen).split("\n");
      lines.pop();  // a line not finished yet
      lines.forEach(function (line) {
        seen += line.length + 1;
        if (!line) return;
        var event = JSON.parse(line);
        if (event.html) {
          result.innerHTML = event.html; text.textContent = say("done");  // the portal's own template
          var heading = result.querySelector("h2");
          if (heading) { heading.tabIndex = -1; heading.focus(); }
        } else if (event.refused) { refused(event); box.hidden = true; } else { show(event); }
      });
    };
    xhr.onprogress = read;
    xhr.onload = function () {
      if ((xhr.getResponseHeader("Content-Type") || "").indexOf("application/x-ndjson") === 0) { read(); }
      else { form.submit(); return; }  // not the import's stream (a field refused): the page without the script
      button.disabled = false;
    };
    xhr.onerror = function () { button.disabled = false; box.hidden = true; };
    xhr.send(new FormData(form));
  });
})();
