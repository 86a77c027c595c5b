/* The month calendar as a date picker (templates/booking/_calendar.html), which works without
   this script through links and buttons. A click, Enter or Space on a day chooses it at once:
   in the request form the dates are filled in and the live check told (a change event); on
   the offering page the links and the address carry the days chosen. Arrows move between days. */
(function () {
  'use strict';

  var DAY = /^\d{4}-\d{2}-\d{2}$/;
  var STEPS = { ArrowLeft: -1, ArrowRight: 1, ArrowUp: -7, ArrowDown: 7 };

  function addDays(iso, days) {
    var date = new Date(iso + 'T00:00:00Z');
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10);
  }

  // booking.picking.pick_day: one fixed length is taken whole from the day; otherwise the
  // first click is the first day, the next (not before it) the last, and then it starts over.
  function pickDay(fixed, first, last, day) {
    if (fixed) {
      return [day, addDays(day, fixed - 1)];
    }
    return !first || last || day < first ? [day, ''] : [first, day];
  }

  // booking.picking.chosen_days: what the calendar shows as chosen.
  function chosenDays(fixed, first, last) {
    if (!first) {
      return ['', ''];
    }
    return [first, fixed ? addDays(first, fixed - 1) : (last >= first ? last : '')];
  }

  function fixedOf(section) {
    return Number(section.dataset.fixedDays) || 0;
  }

  function dayOf(control) {
    return control.closest('td').dataset.date;
  }

  function inForm(section) {
    return section.closest('form') !== null;
  }

  function typed(id) {
    var input = document.getElementById(id);
    return input && DAY.test(input.value) ? input.value : '';
  }

  function current(section) {
    if (inForm(section)) {
      return chosenDays(fixedOf(section), typed('start'), typed('end'));
    }
    return [section.dataset.first, section.dataset.last];
  }

  // As the page writes a date (babel's "long"): "June 10, 2029", "1er juin 2029".
  function written(iso) {
    var language = document.documentElement.lang || 'fr';
    var text = new Intl.DateTimeFormat(language, { dateStyle: 'long', timeZone: 'UTC' })
      .format(new Date(iso + 'T00:00:00Z'));
    return language === 'fr' ? text.replace(/^1 /, '1er ') : text;
  }

  function address(base, month, first, last) {
    var query = new URLSearchParams({ month: month });
    if (first) {
      query.set('start', first);
    }
    if (last) {
      query.set('end', last);
    }
    return base + '?' + query;
  }

  // The offering page: every link says what it would do with these days chosen.
  function updateLinks(section, first, last) {
    var data = section.dataset;
    section.querySelectorAll('a.pick').forEach(function (link) {
      var next = pickDay(fixedOf(section), first, last, dayOf(link));
      link.setAttribute('href', address('', data.month, next[0], next[1]));
    });
    section.querySelectorAll('a.calendar-step').forEach(function (link) {
      var url = new URL(link.href);
      url.searchParams.delete('start');
      url.searchParams.delete('end');
      link.href = address(url.pathname, url.searchParams.get('month'), first, last);
    });
    [['calendar-start', first], ['calendar-end', last]].forEach(function (pair) {
      var input = document.getElementById(pair[0]);
      input.value = pair[1];
      input.disabled = !pair[1];  // none chosen: nothing sent
    });
    var request = document.getElementById('request-dates');
    request.href = address(data.bookUrl, data.month, first, last);
    request.textContent = first ? data.requestChosen : data.requestNone;
    history.replaceState(history.state, '', address(data.pageUrl, data.month, first, last));
  }

  function show(section, first, last) {
    var days = chosenDays(fixedOf(section), first, last);
    var data = section.dataset;
    section.querySelectorAll('td[data-date]').forEach(function (cell) {
      var date = cell.dataset.date;
      var chosen = days[0] && days[0] <= date && date <= (days[1] || days[0]);
      cell.setAttribute('aria-selected', chosen ? 'true' : 'false');
    });
    var say = data.sayNone;
    if (days[1] && days[1] !== days[0]) {
      say = data.sayRange.replace('{last}', written(days[1]));
    } else if (days[0]) {
      say = days[1] ? data.sayDay : data.sayFirst;
    }
    section.querySelector('.calendar-status').textContent =
      days[0] ? say.replace('{first}', written(days[0])) : say;
    data.first = days[0];
    data.last = days[1];
    if (!inForm(section)) {
      updateLinks(section, days[0], days[1]);
    }
  }

  // The request form: each date that changed is filled in, and the live check told.
  function fill(first, last) {
    [['start', first], ['end', last]].map(function (pair) {
      var input = document.getElementById(pair[0]);  // a one-day offering has no #end
      if (input && input.value !== pair[1]) {
        input.value = pair[1];
        return input;
      }
      return null;
    }).forEach(function (input) {
      if (input) {
        input.dispatchEvent(new Event('change', { bubbles: true }));
      }
    });
  }

  function choose(control) {
    var section = control.closest('#calendar');
    var now = current(section);
    var next = pickDay(fixedOf(section), now[0], now[1], dayOf(control));
    if (inForm(section)) {
      fill(next[0], next[1]);
    }
    show(section, next[0], next[1]);
  }

  function move(control, step) {
    var section = control.closest('#calendar');
    var date = dayOf(control);
    while (section.querySelector('td[data-date="' + (date = addDays(date, step)) + '"]')) {
      var target = section.querySelector('td[data-date="' + date + '"] .pick');
      if (target) {
        target.focus();
        return;
      }
    }
  }

  document.addEventListener('click', function (event) {
    var control = event.target.closest('#calendar .pick');
    // Opening a day's link in a new tab or window still works as a link.
    if (control && !event.defaultPrevented && event.button === 0 &&
        !(event.ctrlKey || event.metaKey || event.shiftKey || event.altKey)) {
      event.preventDefault();
      choose(control);
    }
  });

  document.addEventListener('keydown', function (event) {
    var control = event.target.closest && event.target.closest('#calendar .pick');
    if (!control || event.altKey || event.ctrlKey || event.metaKey) {
      return;
    }
    if (event.key === ' ' && control.tagName === 'A') {
      event.preventDefault();  // Space chooses, as on a button, instead of scrolling
      choose(control);
    } else if (STEPS[event.key]) {
      event.preventDefault();
      move(control, STEPS[event.key]);
    }
  });

  // Dates typed into the form show on the calendar too.
  document.addEventListener('change', function (event) {
    var section = document.getElementById('calendar');
    if ((event.target.id === 'start' || event.target.id === 'end') && section && inForm(section)) {
      var now = current(section);
      show(section, now[0], now[1]);
    }
  });
}());
