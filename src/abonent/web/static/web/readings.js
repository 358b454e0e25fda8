/* The form of readings: the consumption shown as the person types, the value typed minus
 * the value it is measured from (the input's data-base). Nothing more: the page works the
 * same without this script, and the server computes and checks everything when the form is
 * sent. For a value that cannot be a reading of the meter (letters, too many digits before
 * or after the comma, less than the base) nothing is shown.
 *
 * Numbers are counted in whole thousandths of a cubic metre, never in binary fractions:
 * 9 digits and 3 decimals stay far below the integers a double holds exactly. */
(function () {
  "use strict";

  var SPACES = /[\s\u00a0\u202f]+/g;
  var NUMBER = /^([0-9]+)(?:[.,]([0-9]+))?$/;
  var GROUP = "\u202f"; /* a narrow no-break space between thousands, as the pages print them */

  /* "1 234,5" → 1234500; null for what is not a number within the limits */
  function thousandths(text, digits, decimals) {
    var match = NUMBER.exec(text.replace(SPACES, ""));
    if (!match) {
      return null;
    }
    var whole = match[1].replace(/^0+(?=[0-9])/, "");
    var fraction = (match[2] || "").replace(/0+$/, "");
    if (whole.length > digits || fraction.length > decimals) {
      return null;
    }
    return Number(whole) * 1000 + Number((fraction + "000").slice(0, 3));
  }

  /* 1234500 → "1 234,5" */
  function volume(value) {
    var whole = String(Math.floor(value / 1000));
    var fraction = String(value % 1000 + 1000).slice(1).replace(/0+$/, "");
    var groups = [];
    while (whole.length > 3) {
      groups.unshift(whole.slice(-3));
      whole = whole.slice(0, -3);
    }
    groups.unshift(whole);
    return groups.join(GROUP) + (fraction ? "," + fraction : "");
  }

  function watch(input) {
    var live = document.getElementById(input.id + "_live");
    var output = live && live.querySelector("output");
    var base = thousandths(input.getAttribute("data-base") || "", 12, 3);
    var digits = Number(input.getAttribute("data-digits"));
    var decimals = Number(input.getAttribute("data-decimals"));
    if (!output || base === null) {
      return;
    }
    function update() {
      var value = thousandths(input.value, digits, decimals);
      var consumption = value === null ? null : value - base;
      if (consumption === null || consumption < 0) {
        live.hidden = true;
        output.textContent = "";
        return;
      }
      output.textContent = volume(consumption);
      live.hidden = false;
    }
    input.addEventListener("input", update);
    update();
  }

  var inputs = document.querySelectorAll("input[data-base]");
  for (var i = 0; i < inputs.length; i += 1) {
    watch(inputs[i]);
  }
})();
