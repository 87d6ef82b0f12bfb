// The console's one script: each [data-chart] element gets an ECharts instance whose option is the JSON in the
// <script type="application/json"> it names (built on the server). No inline script: the CSP allows 'self' only.
(function () {
  "use strict";
  var charts = [];
  function draw(root) {
    if (!window.echarts) { return; }
    root.querySelectorAll("[data-chart]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      var source = document.getElementById(el.dataset.chart);
      if (!source) { return; }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(source.textContent));
      el.dataset.drawn = "1";
      charts.push(chart);
    });
  }
  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  document.addEventListener("htmx:afterSwap", function (event) { draw(event.target); });
  window.addEventListener("resize", function () { charts.forEach(function (c) { c.resize(); }); });
})();

// Photos for a form: each file chosen in an <input type="file" data-photos-for="NAME"> is uploaded at once to
// /api/v1/photos (the session cookie and the page's CSRF token; the server checks, derives and stores it) and
// its id (SHA-256) joins the hidden field NAME that the form posts, so the command cites stored photos only.
(function () {
  "use strict";
  function csrf() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : "";
  }
  function upload(input) {
    var form = input.form;
    var field = form.querySelector('input[name="' + input.dataset.photosFor + '"]');
    var status = form.querySelector("[data-photo-status]");
    var submit = form.querySelector('button[type="submit"]');
    var files = Array.prototype.slice.call(input.files);
    if (!files.length) { return; }
    submit.disabled = true;
    status.textContent = "正在上传 " + files.length + " 张照片…";
    Promise.all(files.map(function (file) {
      var body = new FormData();
      body.append("file", file);
      body.append("project_id", input.dataset.project);
      body.append("works_item_id", input.dataset.item);
      return fetch("/api/v1/photos", { method: "POST", body: body, credentials: "same-origin",
                                       headers: { "X-CSRF-Token": csrf() } })
        .then(function (response) {
          return response.json().then(function (answer) {
            if (!response.ok) { throw new Error(answer.detail || "照片上传失败"); }
            return answer.id;
          });
        });
    })).then(function (ids) {
      var known = field.value ? field.value.split(",") : [];
      field.value = known.concat(ids).join(",");
      status.textContent = "已上传 " + field.value.split(",").length + " 张照片";
    }).catch(function (error) {
      status.textContent = "照片上传失败：" + error.message;
    }).then(function () { submit.disabled = false; });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=file][data-photos-for]")) { upload(event.target); }
  });
})();
