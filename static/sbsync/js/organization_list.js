// New organization: the slug follows the name as it is typed (lower case, dashes), until the slug is
// edited by hand. The server still validates it.
(function () {
  "use strict";

  function slugify(text) {
    return text.normalize("NFKD").replace(/[\u0300-\u036f]/g, "").toLowerCase()
      .replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 50);
  }

  document.addEventListener("input", function (evt) {
    var input = evt.target;
    var form = input.form;
    var slug = form && form.querySelector("[data-slug-from]");
    if (!slug) {
      return;
    }
    if (input === slug) {
      slug.dataset.edited = slug.value ? "1" : "";
    } else if (input.name === slug.dataset.slugFrom && !slug.dataset.edited) {
      slug.value = slugify(input.value);
    }
  });
})();
