/* The survey page's progressive enhancements; the page works without any of them.
   - tells the server that scripts run (questions are then shown and hidden live);
   - reloads the region list when the country changes;
   - "use my device location": coordinates rounded to 2 decimals (about 1 km), no map. */
(function () {
  "use strict";
  function ready(fn) {
    if (document.readyState !== "loading") fn(); else document.addEventListener("DOMContentLoaded", fn);
  }
  function round2(x) { return Math.round(x * 100) / 100; }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  function wireLocation(box, lang) {
    var country = box.querySelector("[data-role=country]");
    var region = box.querySelector("[data-role=region]");
    var city = box.querySelector("input[name$='-city']");
    var cities = box.querySelector("[data-role=cities]");
    var regionsFor = box.querySelector("input[name$='-regions_for']");
    function loadCities() {
      if (!cities) return;
      getJSON("/api/v1/places/cities?country=" + encodeURIComponent(country.value) +
              "&region=" + encodeURIComponent(region.value) + "&lang=" + encodeURIComponent(lang))
        .then(function (data) {
          cities.textContent = "";
          data.cities.forEach(function (name) {
            var opt = document.createElement("option"); opt.value = name; cities.appendChild(opt);
          });
        }).catch(function () {});
    }
    if (region) region.addEventListener("change", loadCities);
    if (country && region) {
      country.addEventListener("change", function () {
        var code = country.value;
        var url = "/api/v1/places/regions?country=" + encodeURIComponent(code) +
                  "&lang=" + encodeURIComponent(lang);
        fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); })
          .then(function (data) {
            while (region.options.length > 1) region.remove(1);
            data.regions.forEach(function (item) {
              var opt = document.createElement("option");
              opt.value = item.code; opt.textContent = item.name; region.appendChild(opt);
            });
            region.value = "";
            if (regionsFor) regionsFor.value = code;
            loadCities();
          }).catch(function () { /* the server redraws the list when the page is sent */ });
      });
    }
    var device = box.querySelector("[data-role=device]");
    if (!device || !navigator.geolocation) return;
    device.hidden = false;
    var lat = box.querySelector("[data-role=lat]"), lon = box.querySelector("[data-role=lon]");
    var done = box.querySelector("[data-role=located]"), failed = box.querySelector("[data-role=locate-failed]");
    box.querySelector("[data-role=locate]").addEventListener("click", function () {
      failed.hidden = true;
      navigator.geolocation.getCurrentPosition(function (pos) {
        lat.value = round2(pos.coords.latitude); lon.value = round2(pos.coords.longitude);
        done.hidden = false;
        // Name the nearest listed place from the app's own offline list; no map service.
        getJSON("/api/v1/places/nearest?lat=" + lat.value + "&lon=" + lon.value).then(function (p) {
          if (p.city && city && !city.value) city.value = p.city;
        }).catch(function () {});
      }, function () { failed.hidden = false; }, { enableHighAccuracy: false, timeout: 15000, maximumAge: 600000 });
    });
    box.querySelector("[data-role=forget]").addEventListener("click", function () {
      lat.value = ""; lon.value = ""; done.hidden = true;
    });
  }

  ready(function () {
    var js = document.querySelector("input[data-role=js]");
    if (js) js.value = "1";
    var lang = document.documentElement.lang;
    Array.prototype.forEach.call(document.querySelectorAll("fieldset.location"), function (box) {
      wireLocation(box, lang);
    });
  });
})();
