// The check-in scanner (templates/invitations/checkin.html): the phone's
// camera reads a visitor pass, and a pass of THIS market is POSTed at once
// by the page's form to our own /staff/markets/<id>/check-in/<code>, CSRF
// token included: one tap less at a busy gate. A pass of this market is an
// address beginning with one of the page's data-accept prefixes (the one
// the passes carry, PUBLIC_BASE_URL, and the one staff opened this page
// at: www. or not, a LAN address) followed by a code of the pass alphabet
// (data-pass-alphabet, models.PASS_ALPHABET). Anything else read (another
// market's pass, another site) is refused on the page and nothing is sent.
//
// The browser's BarcodeDetector reads the code where it exists (Chrome on
// Android); elsewhere (Safari, Firefox) jsQR, shipped in static/js/jsqr/
// and loaded only then. No inline script, no eval: our CSP stays strict.
(function () {
  "use strict";
  var form = document.getElementById("scan-form");
  var start = document.getElementById("scan-start");
  var stop = document.getElementById("scan-stop");
  var view = document.getElementById("scan-view");
  var video = document.getElementById("scan-video");
  var message = document.getElementById("scan-message");
  if (!form || !start || !video) return;

  var prefix = form.getAttribute("data-prefix");
  // A pass code: PASS_LENGTH characters of the pass alphabet (no 0/O/1/I/L),
  // either case. The alphabet is digits and capitals only: nothing in it
  // means anything inside [...].
  var CODE = new RegExp(
    "^[" + (form.getAttribute("data-pass-alphabet") || "").replace(/[^0-9A-Z]/g, "") + "]{" +
      (parseInt(form.getAttribute("data-pass-length"), 10) || 6) + "}$",
    "i"
  );
  // The accepted beginnings, as the URL parser writes them (host in lower
  // case, default port dropped), so they compare with what was scanned.
  var accepted = (form.getAttribute("data-accept") || "").split(/\s+/).map(function (base) {
    try {
      var parsed = new URL(base);
      return parsed.origin + parsed.pathname;
    } catch (error) {
      return null;
    }
  }).filter(Boolean);
  if (!accepted.length) accepted = [window.location.origin + prefix];
  var stream = null;
  var detector = null;
  var canvas = null;
  var timer = null;
  var busy = false;
  var lastRefused = "";

  function say(text, bad) {
    message.textContent = text || "";
    message.classList.toggle("is-bad", !!bad);
  }

  // The check-in path the scanned text names, or null when it is not a
  // pass of this market on this site.
  function checkInPath(text) {
    var url;
    try {
      url = new URL(String(text).trim());
    } catch (error) {
      return null;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    var address = url.origin + url.pathname;
    for (var i = 0; i < accepted.length; i++) {
      if (address.indexOf(accepted[i]) !== 0) continue;
      var code = address.slice(accepted[i].length);
      if (CODE.test(code)) return prefix + code.toUpperCase();
    }
    return null;
  }

  function found(text) {
    var path = checkInPath(text);
    if (!path) {
      if (text !== lastRefused) {
        lastRefused = text;
        say(form.getAttribute("data-not-ours"), true);
        if (navigator.vibrate) navigator.vibrate([60, 60, 60]);
      }
      return false;
    }
    say(form.getAttribute("data-checking"), false);
    if (navigator.vibrate) navigator.vibrate(80);
    halt();
    form.setAttribute("action", path);
    form.submit();
    return true;
  }

  function halt() {
    if (timer) window.clearTimeout(timer);
    timer = null;
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    video.srcObject = null;
    view.hidden = true;
    start.hidden = false;
  }

  function readWithJsQR() {
    if (!video.videoWidth) return null;
    // A frame at most 640 px wide is plenty for a pass held up to the phone.
    var scale = Math.min(1, 640 / video.videoWidth);
    var width = Math.round(video.videoWidth * scale);
    var height = Math.round(video.videoHeight * scale);
    canvas = canvas || document.createElement("canvas");
    canvas.width = width;
    canvas.height = height;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(video, 0, 0, width, height);
    var image = context.getImageData(0, 0, width, height);
    var result = window.jsQR(image.data, width, height, { inversionAttempts: "dontInvert" });
    return result ? result.data : null;
  }

  function tick() {
    timer = null;
    if (!stream || busy) return;
    busy = true;
    var reading = detector
      ? detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; })
      : Promise.resolve(readWithJsQR());
    reading.then(function (text) {
      busy = false;
      if (text && found(text)) return;
      if (stream) timer = window.setTimeout(tick, 150);
    }, function () {
      busy = false;
      if (stream) timer = window.setTimeout(tick, 300);
    });
  }

  function loadReader() {
    if (window.BarcodeDetector) {
      return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
        if (formats.indexOf("qr_code") >= 0) {
          detector = new window.BarcodeDetector({ formats: ["qr_code"] });
          return;
        }
        return loadJsQR();
      }, loadJsQR);
    }
    return loadJsQR();
  }

  function loadJsQR() {
    if (window.jsQR) return Promise.resolve();
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = form.getAttribute("data-reader");
      script.onload = resolve;
      script.onerror = reject;
      document.head.appendChild(script);
    });
  }

  function begin() {
    if (start.matches(":disabled")) return;  // another day: the forms are off
    // Over plain http (a LAN address) the browser gives no camera at all:
    // say that, not "allow the camera", which staff could not do anything about.
    if (!window.isSecureContext) {
      say(form.getAttribute("data-needs-https"), true);
      return;
    }
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say(form.getAttribute("data-no-camera"), true);
      return;
    }
    lastRefused = "";
    say("", false);
    Promise.all([
      loadReader(),
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }),
    ]).then(function (results) {
      stream = results[1];
      video.srcObject = stream;
      view.hidden = false;
      start.hidden = true;
      return video.play();
    }).then(function () {
      remember(true);
      say(form.getAttribute("data-looking"), false);
      view.scrollIntoView({ block: "start" });
      tick();
    }).catch(function () {
      halt();
      say(form.getAttribute("data-no-camera"), true);
    });
  }

  // Back from a visitor's page ("scan the next pass", #scan) the camera
  // opens again by itself, but only once staff have opened it here before
  // (this tab): a first visit waits for the button.
  function remember(on) {
    try {
      if (on) window.sessionStorage.setItem("checkin-camera", "1");
      else window.sessionStorage.removeItem("checkin-camera");
    } catch (error) { /* storage off: the button still works */ }
  }

  function remembered() {
    try { return window.sessionStorage.getItem("checkin-camera") === "1"; } catch (error) { return false; }
  }

  start.addEventListener("click", begin);
  if (stop) stop.addEventListener("click", function () { halt(); remember(false); say("", false); });
  if (window.location.hash === "#scan" && remembered()) begin();
  // The camera is stopped when the page is left (back/forward cache too).
  window.addEventListener("pagehide", halt);

  // For the browser tests: the check the page applies to a scanned text.
  form.checkInPath = checkInPath;
  form.scanned = found;
})();
