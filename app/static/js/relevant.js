/* Hide irrelevant questions as answers change, with forms/expr.py's semantics on its JSON trees
 * (tests/test_expr_js_parity.py compares). The server decides; this never disables inputs. */
var AtlasExpr = (function () {
  'use strict';
  var NUMERIC = /^[ \t\n\r]*-?([0-9]+(\.[0-9]*)?|\.[0-9]+)[ \t\n\r]*$/;

  function blank(v) { return v == null ? '' : v; }  // null or undefined: unanswered
  function isObject(v) { return typeof v === 'object' && v !== null; }

  function str(v) {
    v = blank(v);
    if (typeof v === 'string') return v;
    if (typeof v === 'boolean') return v ? 'true' : 'false';
    if (!isObject(v)) return String(v);
    var parts = Array.isArray(v) ? v : Object.keys(v).map(function (k) { return v[k]; });
    return parts.map(str).filter(Boolean).join(' ');
  }

  function num(v) {
    if (typeof v === 'boolean') return v ? 1 : 0;
    if (typeof v === 'number') return v;
    v = str(v);
    return NUMERIC.test(v) ? Number(v) : NaN;
  }

  function isTrue(v) {
    if (typeof v === 'boolean') return v;
    if (typeof v === 'number') return v !== 0 && v === v;
    if (Array.isArray(v)) return v.length > 0;
    return str(v) !== '';
  }

  // By code point, as Python orders strings (< compares UTF-16 units).
  function order(a, b) {
    var x = Array.from(a), y = Array.from(b), i = 0;
    while (i < x.length && x[i] === y[i]) i++;
    if (i === x.length || i === y.length) return x.length - y.length;
    return x[i].codePointAt(0) - y[i].codePointAt(0);
  }

  function compare(op, a, b) {
    a = isObject(a) ? str(a) : blank(a);
    b = isObject(b) ? str(b) : blank(b);
    var x = num(a), y = num(b);
    if (typeof a === 'boolean' || typeof b === 'boolean') {
      if (op === '=' || op === '!=') { x = +isTrue(a); y = +isTrue(b); }
    } else if (typeof a !== 'number' && typeof b !== 'number' &&
               !(NUMERIC.test(a) && NUMERIC.test(b))) {
      x = order(a, b); y = 0;
    }
    if (x !== x || y !== y) return op === '!=';
    return {'=': x === y, '!=': x !== y, '<': x < y, '<=': x <= y, '>': x > y, '>=': x >= y}[op];
  }

  function calculate(op, a, b) {
    a = num(a); b = num(b);
    if (op === '+') return a + b;
    if (op === '-') return a - b;
    if (op === '*') return a * b;
    return b === 0 ? NaN : op === 'div' ? a / b : a % b;
  }

  function items(v) {
    return Array.isArray(v) ? v : str(v).split(/[ \t\n\r]+/).filter(Boolean);
  }

  // A positive finite number as [digits, point]: 0.<digits> * 10^point, the shortest digits
  // that read back exactly (as forms/expr.py's _decimal).
  function decimal(x) {
    var m = /^([0-9]*)\.?([0-9]*)(?:e([-+][0-9]+))?$/.exec(String(x));
    var digits = m[1] + m[2], point = m[1].length + (m[3] ? +m[3] : 0);
    var significant = digits.replace(/^0+/, '');
    point -= digits.length - significant.length;
    return [significant.replace(/0+$/, ''), point];
  }

  function bump(s) {  // a string of decimal digits, plus one
    var i = s.length - 1;
    while (i >= 0 && s[i] === '9') i--;
    return (i < 0 ? '1' : s.slice(0, i) + (+s[i] + 1)) + '0'.repeat(s.length - 1 - i);
  }

  // Rounded as written, halves away from zero (see _round in forms/expr.py).
  function round(x, places) {
    x = num(x); places = num(places);
    if (places !== places) return NaN;
    if (x === 0 || !isFinite(x)) return x;
    var d = decimal(Math.abs(x)), digits = d[0], point = d[1];
    var keep = point + Math.trunc(Math.max(-400, Math.min(400, places)));
    if (keep >= digits.length) return x;
    if (keep < 0) return x < 0 ? -0 : 0;
    var head = digits.slice(0, keep) || '0';
    var r = Number((digits[keep] >= '5' ? bump(head) : head) + 'e' + (point - keep));
    return x < 0 ? -r : r;
  }

  function position(x, length) {  // a substr() position for slice(): truncated, NaN as 0
    x = num(x);
    return x !== x ? 0 : Math.trunc(Math.max(-length - 1, Math.min(length + 1, x)));
  }

  function extreme(args, smaller) {  // min() / max(): NaN when any is not a number
    var best = NaN, i, x;
    for (i = 0; i < args.length; i++) {
      x = num(args[i]);
      if (x !== x) return NaN;
      if (i === 0 || (smaller ? x < best : x > best)) best = x;
    }
    return best;
  }

  // regex(): the server has checked that the pattern means the same here as in Python.
  var MAX_REGEX_INPUT = 4000, patterns = Object.create(null);
  function regex(value, pattern) {
    value = str(value);
    if (value.length > MAX_REGEX_INPUT && Array.from(value).length > MAX_REGEX_INPUT) return false;
    pattern = str(pattern);
    if (!(pattern in patterns)) patterns[pattern] = new RegExp(pattern, 'u');
    return patterns[pattern].test(value);
  }

  // Dates as [days since 1970-01-01, seconds into the day]: see _moment in forms/expr.py.
  var MOMENT = new RegExp('^([0-9]{4})-([0-9]{2})-([0-9]{2})(?:T([0-9]{2}):([0-9]{2})' +
    '(?::([0-9]{2})(?:\\.([0-9]+))?)?(Z|([-+])([0-9]{2})(?::?([0-9]{2}))?)?)?$');
  var FIRST_DAY = -719162, LAST_DAY = 2932896;  // 0001-01-01 and 9999-12-31
  var WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  var MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

  function dayNumber(y, m, d) {  // NaN when there is no such day
    var t = new Date(0);
    t.setUTCFullYear(y, m - 1, d);  // not Date.UTC, which reads years 0-99 as 1900-1999
    return y >= 1 && t.getUTCFullYear() === y && t.getUTCMonth() === m - 1 &&
      t.getUTCDate() === d ? t.getTime() / 864e5 : NaN;
  }

  function moment(v) {
    var m, days, h, mi, s, zh, zm, total;
    if (typeof v === 'boolean') return null;
    if (typeof v === 'number') {
      days = Math.floor(v);
      if (!isFinite(v) || days < FIRST_DAY || days > LAST_DAY) return null;
      return [days, Math.min((v - days) * 86400, 86399.999)];
    }
    m = MOMENT.exec(str(v));
    if (!m) return null;
    days = dayNumber(+m[1], +m[2], +m[3]);
    h = +(m[4] || 0); mi = +(m[5] || 0); s = +(m[6] || 0); zh = +(m[10] || 0); zm = +(m[11] || 0);
    if (days !== days || h > 23 || mi > 59 || s > 59 || zh > 23 || zm > 59) return null;
    total = days * 86400 + h * 3600 + mi * 60 + s - (zh * 3600 + zm * 60) * (m[9] === '-' ? -1 : 1);
    days = Math.floor(total / 86400);
    if (days < FIRST_DAY || days > LAST_DAY) return null;
    return [days, (total - days * 86400) + +((m[7] || '') + '000').slice(0, 3) / 1000];
  }

  function pad(n, width) {
    n = String(n);
    while (n.length < width) n = '0' + n;
    return n;
  }

  function formatDate(v, form) {
    var m = moment(v), t, whole, fields;
    if (!m) return '';
    t = new Date(m[0] * 864e5);
    whole = Math.floor(m[1]);
    fields = {
      Y: pad(t.getUTCFullYear(), 4), y: pad(t.getUTCFullYear() % 100, 2),
      m: pad(t.getUTCMonth() + 1, 2), d: pad(t.getUTCDate(), 2), e: String(t.getUTCDate()),
      H: pad(Math.floor(whole / 3600), 2), M: pad(Math.floor(whole / 60) % 60, 2),
      S: pad(whole % 60, 2), a: WEEKDAYS[((m[0] + 4) % 7 + 7) % 7], b: MONTHS[t.getUTCMonth()]
    };
    return str(form).replace(/%([\s\S]?)/g, function (all, c) {
      return {}.hasOwnProperty.call(fields, c) ? fields[c] : all;
    });
  }

  function evaluate(tree, values, current, today, now) {
    function ev(t) {
      var op = t[0], a;
      switch (op) {
        case 'lit': return t[1];
        case 'current': return blank(current);
        case 'ref':  // own properties only: a question may be called "constructor"
          return blank(t[1].split('.').reduce(function (v, k) {
            return isObject(v) && !Array.isArray(v) && {}.hasOwnProperty.call(v, k) ? v[k] : '';
          }, values));
        case 'neg': return -num(ev(t[1]));
        case 'and': return isTrue(ev(t[1])) && isTrue(ev(t[2]));
        case 'or': return isTrue(ev(t[1])) || isTrue(ev(t[2]));
        case 'call':
          a = t[2].map(ev);
          switch (t[1]) {
            case 'not': return !isTrue(a[0]);
            case 'selected': return items(a[0]).map(str).indexOf(str(a[1])) >= 0;
            case 'count-selected': return items(a[0]).length;
            case 'string-length': return Array.from(str(a[0])).length;
            case 'today': // local, as Python's date.today()
              a = new Date();
              return today || new Date(a - a.getTimezoneOffset() * 6e4).toISOString().slice(0, 10);
            case 'if': return isTrue(a[0]) ? a[1] : a[2];
            case 'coalesce': return str(a[0]) !== '' ? a[0] : a[1];
            case 'concat': return a.map(str).join('');
            case 'true': return true;
            case 'false': return false;
            case 'boolean': return isTrue(a[0]);
            case 'string': return str(a[0]);
            case 'number': return num(a[0]);
            case 'int': return Math.trunc(num(a[0]));
            case 'round': return round(a[0], a.length > 1 ? a[1] : 0);
            case 'contains': return str(a[0]).indexOf(str(a[1])) >= 0;
            case 'starts-with': return str(a[0]).startsWith(str(a[1]));
            case 'ends-with': return str(a[0]).endsWith(str(a[1]));
            case 'substr':  // by code points, as Python indexes strings
              a[0] = Array.from(str(a[0]));
              return a[0].slice(position(a[1], a[0].length),
                                a.length > 2 ? position(a[2], a[0].length) : a[0].length).join('');
            case 'normalize-space': return items(str(a[0])).join(' ');
            case 'selected-at':
              a[0] = items(a[0]); a[1] = num(a[1]);
              return a[1] >= 0 && a[1] < a[0].length ? str(a[0][Math.floor(a[1])]) : '';
            case 'min': return extreme(a, true);
            case 'max': return extreme(a, false);
            case 'regex': return regex(a[0], a[1]);
            case 'now': return now || new Date().toISOString();
            case 'date': a = moment(a[0]); return a ? new Date(a[0] * 864e5).toISOString().slice(0, 10) : '';
            case 'format-date': return formatDate(a[0], a[1]);
            case 'decimal-date-time':
              if (typeof a[0] === 'number') return a[0];
              a = moment(a[0]);
              return a ? a[0] + a[1] / 86400 : NaN;
          }
      }
      if (/^([!<>]?=|[<>])$/.test(op)) return compare(op, ev(t[1]), ev(t[2]));
      if (/^([-+*]|div|mod)$/.test(op)) return calculate(op, ev(t[1]), ev(t[2]));
      throw new Error('cannot evaluate ' + JSON.stringify(t));
    }
    return ev(tree);
  }

  // A question's answer on this page, or null. Location parts are named NAME-country etc.
  function answer(w, name) {
    var place = {}, list = [], one = null, multi = false, loc = false;
    [].forEach.call(w.querySelectorAll('[name]'), function (el) {
      var part = el.name.slice(name.length + 1);
      if (el.name === name + '-' + part && /^(country|region|city)$/.test(part)) {
        loc = true; place[part] = el.value || null;
      }
      else if (el.name !== name) return;
      else if (el.type === 'checkbox') { multi = true; if (el.checked) list.push(el.value); }
      else if (el.multiple) {
        multi = true;
        [].forEach.call(el.selectedOptions, function (o) { list.push(o.value); });
      } else if (el.type !== 'radio' || el.checked) one = el.value;
    });
    if (loc) return place.country ? place : null;
    if (multi) return list.length ? list : null;
    return one || null;
  }

  // As forms.validation.check_group: each question sees the earlier pages' answers and this
  // page's relevant answers above it.
  function refresh(doc) {
    var values = Object.create(null), earlier = {}, data = doc.getElementById('atlas-answers');
    try { earlier = JSON.parse(data.textContent) || {}; } catch (e) {}
    var ws = [].slice.call(doc.querySelectorAll('.q[data-q]'));
    var names = ws.map(function (w) { return w.getAttribute('data-q'); });
    Object.assign(values, earlier);
    names.forEach(function (name) { delete values[name]; });
    ws.forEach(function (w, i) {
      var rule = w.getAttribute('data-relevant'), shown = true, value;
      try { shown = !rule || isTrue(evaluate(JSON.parse(rule), values)); } catch (e) {}
      w.hidden = !shown;
      value = shown && answer(w, names[i]);
      if (value) values[names[i]] = value;
    });
  }

  if (typeof document !== 'undefined') {
    ['DOMContentLoaded', 'input', 'change'].forEach(function (type) {
      document.addEventListener(type, function () { refresh(document); });
    });
  }

  return { evaluate: evaluate, isTrue: isTrue, refresh: refresh };
})();

if (typeof module !== 'undefined') module.exports = AtlasExpr;
