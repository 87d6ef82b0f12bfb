// An enhancement only: every page reads and signs without it. Two things: a form is sent once (a double tap on
// a slow line), and a photo from the camera is made smaller before it crosses a phone network (a 4 MB photo
// takes over a minute at 400 kbit/s; the server keeps a 1600 px preview of it anyway).
"use strict";
(function () {
  var EDGE = 1600, QUALITY = 0.85, SMALL = 1024 * 1024;
  document.documentElement.classList.add("js");  // the Chinese photo button replaces the browser's own

  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) { resolve(file); return; }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, EDGE / Math.max(bitmap.width, bitmap.height));
        if (scale === 1 && file.size < SMALL) { resolve(file); return; }
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) {
          resolve(blob ? new File([blob], file.name.replace(/\.\w+$/, "") + ".jpg", {type: "image/jpeg"}) : file);
        }, "image/jpeg", QUALITY);
      }, function () { resolve(file); });
    });
  }

  document.querySelectorAll("input[type=file][data-shrink]").forEach(function (input) {
    input.addEventListener("change", function () {
      var picked = input.form.querySelector(".picked");
      if (picked) { picked.textContent = input.files.length ? "已选 " + input.files.length + " 张照片" : ""; }
      if (!window.DataTransfer) { return; }
      var form = input.form;
      form.shrinking = Promise.all(Array.prototype.map.call(input.files, shrink)).then(function (files) {
        var list = new DataTransfer();
        files.forEach(function (f) { list.items.add(f); });
        input.files = list.files;
      }).catch(function () {}).then(function () { form.shrinking = null; });
    });
  });

  document.querySelectorAll("form[data-once]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (form.dataset.sent) { event.preventDefault(); return; }
      form.dataset.sent = "1";
      var button = form.querySelector("button[type=submit]");
      if (button) { button.dataset.label = button.textContent; button.disabled = true; button.textContent = "正在提交，请稍候…"; }
      if (form.shrinking) { event.preventDefault(); form.shrinking.then(function () { form.submit(); }); }
    });
  });

  window.addEventListener("pageshow", function (event) {  // back to a page kept in memory: its forms work again
    if (!event.persisted) { return; }
    document.querySelectorAll("form[data-sent]").forEach(function (form) {
      delete form.dataset.sent;
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = false; button.textContent = button.dataset.label || button.textContent; }
    });
  });
})();
