/**
 * The catalog page's script, inlined. It reads only the page's own markup (data-* attributes the
 * renderer wrote, already escaped), never a value spliced into the script, so nothing from Azure or
 * from files ever becomes code. Filters hide rows (and, for the OS and route filters, the matrix's
 * columns of other systems or routes; the route filter is there when the page shows both routes); sort buttons reorder a table's rows and set aria-sort; a live region says how many
 * rows are shown.
 */
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var search = document.getElementById('f-search');
  var os = document.getElementById('f-os');
  var lab = document.getElementById('f-lab');
  var subscription = document.getElementById('f-subscription');
  var route = document.getElementById('f-route');
  var stale = document.getElementById('f-stale');
  var status = document.getElementById('status');
  var imageRows = Array.prototype.slice.call(document.querySelectorAll('#images-table tbody tr'));
  var labRows = Array.prototype.slice.call(document.querySelectorAll('#labs-table tbody tr'));
  var columnCells = Array.prototype.slice.call(document.querySelectorAll('#labs-table [data-os]'));

  function apply() {
    var q = search.value.trim().toLowerCase();
    var wantOs = os.value, wantLab = lab.value, wantSub = subscription.value, staleOnly = stale.checked;
    var wantRoute = route ? route.value : '';
    var shownImages = 0, shownLabs = 0;
    imageRows.forEach(function (row) {
      var show = (!wantOs || row.getAttribute('data-os') === wantOs) &&
        (!wantRoute || row.getAttribute('data-route') === wantRoute) &&
        (!staleOnly || row.getAttribute('data-stale') === 'true') &&
        (!wantLab || (' ' + row.getAttribute('data-labs') + ' ').indexOf(' ' + wantLab + ' ') >= 0) &&
        (!q || row.getAttribute('data-search').indexOf(q) >= 0);
      row.hidden = !show;
      if (show) shownImages++;
    });
    labRows.forEach(function (row) {
      var show = (!wantLab || row.getAttribute('data-lab') === wantLab) &&
        (!wantSub || row.getAttribute('data-subscription') === wantSub) &&
        (!staleOnly || (wantRoute ? (' ' + row.getAttribute('data-stale-routes') + ' ').indexOf(' ' + wantRoute + ' ') >= 0 : row.getAttribute('data-stale') === 'true')) &&
        (!q || row.getAttribute('data-search').indexOf(q) >= 0);
      row.hidden = !show;
      if (show) shownLabs++;
    });
    columnCells.forEach(function (cell) {
      cell.hidden = (!!wantOs && cell.getAttribute('data-os') !== wantOs) || (!!wantRoute && cell.getAttribute('data-route') !== wantRoute);
    });
    status.textContent = 'Showing ' + shownImages + ' of ' + imageRows.length + ' golden images and ' +
      shownLabs + ' of ' + labRows.length + ' labs.';
  }

  form.addEventListener('input', apply);
  form.addEventListener('change', apply);
  form.addEventListener('submit', function (event) { event.preventDefault(); apply(); });
  form.addEventListener('reset', function () { setTimeout(apply, 0); });

  Array.prototype.forEach.call(document.querySelectorAll('th button.sort'), function (button) {
    button.addEventListener('click', function () {
      var th = button.parentNode;
      var table = th.closest('table');
      var index = Array.prototype.indexOf.call(th.parentNode.children, th);
      var ascending = th.getAttribute('aria-sort') !== 'ascending';
      Array.prototype.forEach.call(table.querySelectorAll('thead th'), function (other) { other.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', ascending ? 'ascending' : 'descending');
      var body = table.tBodies[0];
      var rows = Array.prototype.slice.call(body.rows);
      var key = function (row) {
        var cell = row.children[index];
        var value = cell ? cell.getAttribute('data-sort') : '';
        return value === null ? cell.textContent.trim().toLowerCase() : value;
      };
      var numeric = th.getAttribute('data-type') === 'number';
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        var order = numeric ? (Number(x) - Number(y)) : (x < y ? -1 : x > y ? 1 : 0);
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });

  apply();
})();
`;
