// The case page: choosing an answer template puts its text into the reply, after what is
// written already. Without JavaScript the «Вставить шаблон» button does the same through
// the server; here it is not needed and is hidden.
"use strict";
(function () {
  var select = document.getElementById("id_template");
  var text = document.getElementById("id_text");
  var insert = document.getElementById("template-insert");
  if (!select || !text) {
    return;
  }
  if (insert) {
    insert.hidden = true;
  }
  select.addEventListener("change", function () {
    var option = select.options[select.selectedIndex];
    var template = option ? option.getAttribute("data-text") : null;
    if (!template) {
      return;
    }
    var written = text.value.replace(/\s+$/, "");
    text.value = written ? written + "\n\n" + template : template;
    text.focus();
    text.setSelectionRange(text.value.length, text.value.length);
  });
})();
