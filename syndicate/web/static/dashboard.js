// Progressive help for the dashboard; every page works without it.
// - a live character count under each review text box;
// - the page reloads itself every data-refresh seconds while it is visible
//   and nothing is being typed or chosen.
"use strict";

(function () {
  var urlPattern = /https?:\/\/[^\s<>"]+/g;

  function graphemes(s) {
    if (typeof Intl !== "undefined" && Intl.Segmenter) {
      var n = 0;
      var it = new Intl.Segmenter(undefined, { granularity: "grapheme" }).segment(s)[Symbol.iterator]();
      while (!it.next().done) n++;
      return n;
    }
    return Array.from(s).length;
  }

  // As Mastodon counts: graphemes, every URL as 23.
  function mastodonLength(text) {
    var urls = text.match(urlPattern) || [];
    return graphemes(text.replace(urlPattern, "")) + 23 * urls.length;
  }

  // As Telegram counts: UTF-16 units of the text once the tags are gone
  // and the entities read.
  function telegramLength(html) {
    var plain = html.replace(/<[^>]*>/g, "")
      .replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&quot;/g, '"').replace(/&amp;/g, "&");
    return plain.length;
  }

  function wireCount(area) {
    var out = document.getElementById(area.getAttribute("aria-describedby"));
    if (!out) return;
    var limit = parseInt(area.dataset.limit, 10) || 0;
    var kind = area.dataset.count;
    var update = function () {
      var n = kind === "utf16-html" ? telegramLength(area.value)
        : kind === "graphemes-urls-23" ? mastodonLength(area.value)
        : graphemes(area.value);
      out.value = n + (limit ? " of " + limit : "") + " characters";
      out.textContent = out.value;
      out.parentElement.classList.toggle("over", limit > 0 && n > limit);
    };
    area.addEventListener("input", function () {
      area.dataset.dirty = "1";
      update();
    });
    update();
  }

  function busy() {
    var el = document.activeElement;
    if (el && /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName)) return true;
    return document.querySelector("textarea[data-dirty], form[data-dirty]") !== null;
  }

  function wireRefresh() {
    var seconds = parseInt(document.body.dataset.refresh, 10);
    if (!seconds || seconds < 5) return;
    window.setInterval(function () {
      if (document.visibilityState === "visible" && !busy()) {
        window.location.reload();
      }
    }, seconds * 1000);
  }

  // A box ticked or a choice made is not lost to a reload.
  document.addEventListener("change", function (e) {
    if (e.target.form) e.target.form.dataset.dirty = "1";
  });

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("textarea[data-count]").forEach(wireCount);
    wireRefresh();
  });
})();
