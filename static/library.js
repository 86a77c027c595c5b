// The staff portrait library: the upload's progress, answers HTMX should show although their
// status is an error (data-swap-status on the target), and drag-and-drop ordering that posts
// the portraits' ids in their new order to the list form's action, with its CSRF token.
(function () {
  "use strict";

  function uploadParts(form) {
    const box = form.querySelector(".upload-progress");
    return box && { box, bar: box.querySelector("progress"), text: box.querySelector(".upload-progress-text") };
  }

  function isUpload(element) {
    return element instanceof Element && element.matches("#upload-form");
  }

  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!isUpload(event.detail.elt)) return;
    const parts = uploadParts(event.detail.elt);
    parts.bar.value = 0;
    parts.text.textContent = "0 %";
    parts.box.dataset.sent = "";
    parts.box.hidden = false;
  });

  // htmx reports the upload's progress, then the answer's download: only the first counts.
  document.addEventListener("htmx:xhr:progress", function (event) {
    if (!isUpload(event.target) || !event.detail.lengthComputable) return;
    const parts = uploadParts(event.target);
    if (parts.box.dataset.sent) return;
    const percent = event.detail.total ? Math.round((100 * event.detail.loaded) / event.detail.total) : 100;
    parts.bar.value = percent;
    parts.text.textContent = percent + " %";
    if (event.detail.loaded >= event.detail.total) {
      parts.box.dataset.sent = "yes";
      parts.text.textContent = parts.box.dataset.checking;
    }
  });

  document.addEventListener("htmx:afterRequest", function (event) {
    if (!isUpload(event.detail.elt)) return;
    uploadParts(event.detail.elt).box.hidden = true;
    if (event.detail.successful) event.detail.elt.reset();
  });

  document.addEventListener("htmx:beforeSwap", function (event) {
    const target = event.detail.target;
    const statuses = target && target.dataset ? (target.dataset.swapStatus || "").split(" ") : [];
    if (statuses.includes(String(event.detail.xhr.status))) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  let dragged = null;
  let orderBefore = "";
  let placeBefore = null; // the row's next sibling when the drag began, to put it back

  function rowOf(node) {
    return node instanceof Element ? node.closest("li[data-portrait-id]") : null;
  }

  function orderOf(list) {
    return Array.from(list.querySelectorAll("li[data-portrait-id]"), function (row) {
      return row.dataset.portraitId;
    }).join(" ");
  }

  // Only the handle (draggable in the markup) starts a drag: a row's text stays selectable.
  document.addEventListener("dragstart", function (event) {
    const handle = event.target instanceof Element ? event.target.closest(".drag-handle") : null;
    const row = rowOf(handle);
    if (!row) return;
    dragged = row;
    orderBefore = orderOf(row.parentElement);
    placeBefore = row.nextElementSibling;
    row.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", row.dataset.portraitId);
  });

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    const row = rowOf(event.target);
    if (!row || row.parentElement !== dragged.parentElement) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    if (row === dragged) return;
    const box = row.getBoundingClientRect();
    const after = event.clientY > box.top + box.height / 2;
    row.parentElement.insertBefore(dragged, after ? row.nextElementSibling : row);
  });

  document.addEventListener("drop", function (event) {
    if (dragged) event.preventDefault();
  });

  document.addEventListener("dragend", function (event) {
    if (!dragged) return;
    const row = dragged;
    dragged = null;
    row.classList.remove("dragging");
    if (event.dataTransfer.dropEffect === "none") {
      // Dropped outside the list, or Escape: the order stays as it was.
      row.parentElement.insertBefore(row, placeBefore);
      return;
    }
    if (orderOf(row.parentElement) !== orderBefore) postOrder(row.closest("form"));
  });

  // Sent on its own (not as the form), so that no button of the form lends it its formaction.
  function postOrder(form) {
    const ids = Array.from(form.querySelectorAll("input[name=ids]"), function (input) {
      return input.value;
    });
    htmx.ajax("POST", form.action, {
      target: form,
      swap: "outerHTML",
      values: { ids: ids, csrf_token: form.querySelector("input[name=csrf_token]").value },
    });
  }
})();
