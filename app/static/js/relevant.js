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

  function evaluate(tree, values, current, today) {
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
