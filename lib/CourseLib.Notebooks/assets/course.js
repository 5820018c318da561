// Typesets the math Markdig marked up and highlights code, once the deferred KaTeX and highlight.js
// scripts have loaded. Everything runs from local files: the site works with no network.
(function () {
  'use strict';

  if (window.katex) {
    document.querySelectorAll('.math').forEach(function (el) {
      var tex = el.textContent.trim();
      // Markdig wraps inline math in \( \) and block math in \[ \].
      var m = /^\\[\(\[]([\s\S]*)\\[\)\]]$/.exec(tex);
      if (m) { tex = m[1]; }
      var display = el.tagName === 'DIV' || el.classList.contains('math-display');
      // A typo in one formula shows that formula in red instead of stopping the rest of the page.
      window.katex.render(tex, el, { displayMode: display, throwOnError: false });
    });
  }

  if (window.hljs) {
    document.querySelectorAll('pre code[class*="language-"]').forEach(function (el) {
      window.hljs.highlightElement(el);
    });
  }
})();
