/* The request form's helpers (the page works without them): a suggested window fills the
   dates in place instead of drawing the form again, the message at the top takes focus,
   and a link of the error summary moves focus to its field with the field's label in view. */
(function () {
  'use strict';

  function fill(id, value) {
    var input = document.getElementById(id);
    if (input) {  // a one-day offering asks one date: no #end
      input.value = value;
    }
    return input;
  }

  function useWindow(button) {
    var days = button.value.split('/');
    var changed = [fill('start', days[0]), fill('end', days[1])].filter(Boolean);
    // Both values are in before either change is told: the live check reads both.
    changed.forEach(function (input) {
      input.dispatchEvent(new Event('change', { bubbles: true }));
    });
    // The answer (and this button with it) is about to be replaced: focus stays in the form.
    if (changed.length) {
      changed[0].focus();
    }
  }

  function focusField(link) {
    var target = document.getElementById(link.hash.slice(1));
    if (!target) {
      return false;
    }
    var label = document.querySelector('label[for="' + target.id + '"]') ||
      (target.closest('fieldset') || target).querySelector('legend');
    (label || target).scrollIntoView();
    target.focus({ preventScroll: true });
    return true;
  }

  document.addEventListener('click', function (event) {
    var button = event.target.closest('#request-form button[name="use_window"]');
    if (button) {
      event.preventDefault();
      useWindow(button);
      return;
    }
    var link = event.target.closest('#error-summary a[href^="#"]');
    if (link && focusField(link)) {
      event.preventDefault();
    }
  });

  function focusMessage() {
    var message = document.getElementById('error-summary') || document.getElementById('form-problem');
    if (message && document.activeElement !== message) {
      message.focus();
    }
  }

  if (document.readyState === 'loading') {
    document.addEventListener('DOMContentLoaded', focusMessage);
  } else {
    focusMessage();
  }
}());
