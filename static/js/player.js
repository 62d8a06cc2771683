// The recordings player: one <audio> in the now-playing bar (kept across htmx navigation
// by hx-preserve), a detail-page UI with a waveform that drives it, and a play button per
// list row. The audio streams from /recordings/<id>/audio/ with Range, so seeking far
// starts at once; the waveform is drawn from server-computed peaks, never by decoding
// the whole file in the browser.
(function () {
  "use strict";

  // The page's CSP nonce, which wavesurfer puts on the <style> of its waveform so the
  // Content-Security-Policy lets it in (read while this script runs: it is on our tag).
  var CSP_NONCE = (document.currentScript && document.currentScript.nonce) || "";
  var SPEEDS = [0.75, 1, 1.25, 1.5, 1.75, 2];
  var SKIP = 10;

  function clock(seconds) {
    seconds = Math.max(0, Math.floor(seconds || 0));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return h + ":" + (m < 10 ? "0" : "") + m + ":" + (s < 10 ? "0" : "") + s;
  }

  function storageKey(id) { return "recording-position:" + id; }

  // The CSRF token htmx sends (hx-headers on <body>), for the few requests made here.
  function csrfToken() {
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; }
    catch (e) { return ""; }
  }

  function remembered(id) {
    try { return parseFloat(localStorage.getItem(storageKey(id))) || 0; } catch (e) { return 0; }
  }

  function remember(id, seconds) {
    try {
      if (seconds > 1) localStorage.setItem(storageKey(id), seconds.toFixed(1));
      else localStorage.removeItem(storageKey(id));
    } catch (e) { /* private mode: positions are just not kept */ }
  }

  // "#t=95" or "#t=1:35" -> seconds, or null.
  function hashTime() {
    var match = /^#t=(?:(\d+):)?(\d+(?:\.\d+)?)$/.exec(location.hash);
    if (!match) return null;
    return (match[1] ? parseInt(match[1], 10) * 60 : 0) + parseFloat(match[2]);
  }

  // ------------------------------------------------------------------ the engine

  var engine = {
    audio: null,
    bar: null,
    current: null, // {id, src, href, title, stereo, played}
    reported: null, // the id whose play was reported to the server since it was loaded
    graph: null, // Web Audio: source -> splitter -> gain per channel -> merger -> out
    muted: [false, false],
    pendingSeek: null,

    init: function () {
      this.bar = document.getElementById("now-playing");
      if (!this.bar || this.audio) return;
      this.audio = document.createElement("audio");
      this.audio.id = "now-playing-audio";
      this.audio.preload = "metadata";
      this.bar.prepend(this.audio);
      var self = this, lastSaved = 0;
      this.audio.addEventListener("loadedmetadata", function () {
        if (self.pendingSeek !== null) {
          self.audio.currentTime = Math.min(self.pendingSeek, self.audio.duration || self.pendingSeek);
          self.pendingSeek = null;
        }
        self.render();
      });
      this.audio.addEventListener("timeupdate", function () {
        var now = Date.now();
        if (self.current && now - lastSaved > 1000) {
          lastSaved = now;
          remember(self.current.id, self.audio.currentTime);
        }
        self.render();
      });
      // A person pressed play: that is a listen for the audit trail ("Who listened").
      // Loading the audio (the browser reads its length on its own) is not.
      this.audio.addEventListener("play", function () {
        var current = self.current;
        if (!current || !current.played || self.reported === current.id) return;
        self.reported = current.id;
        fetch(current.played, {
          method: "POST", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() }
        }).catch(function () { /* the audit trail misses one play; playing goes on */ });
      });
      ["play", "pause", "ratechange", "volumechange", "durationchange", "seeked"].forEach(function (name) {
        self.audio.addEventListener(name, function () { self.render(); });
      });
      this.audio.addEventListener("pause", function () {
        if (self.current) remember(self.current.id, self.audio.currentTime);
      });
      // A media error (upstream down, file gone) is shown, with a retry, not swallowed.
      this.audio.addEventListener("error", function () {
        if (self.audio.getAttribute("src")) self.failed = true;
        self.render();
      });
      this.audio.addEventListener("loadeddata", function () {
        self.failed = false;
        self.render();
      });
      this.audio.addEventListener("ended", function () {
        if (self.current) remember(self.current.id, 0);
      });
      this.bar.addEventListener("click", function (event) {
        var action = event.target.closest("[data-action]");
        if (!action) return;
        if (action.dataset.action === "toggle") self.toggle();
        if (action.dataset.action === "close") self.close();
      });
    },

    // Start (or keep) a recording in the shared <audio>. `at` seconds, else where the
    // user left it last time.
    load: function (recording, at) {
      if (this.current && this.current.id === recording.id) {
        if (at !== null && at !== undefined) this.seek(at);
        return;
      }
      if (this.current) remember(this.current.id, this.audio.currentTime);
      this.current = recording;
      this.reported = null;
      this.muted = [false, false];
      this.pendingSeek = at !== null && at !== undefined ? at : remembered(recording.id) || null;
      this.audio.src = recording.src;
      this.audio.playbackRate = 1;
      this.route();
      this.render();
    },

    // Built on the first user gesture (browsers start an AudioContext only then).
    ensureGraph: function () {
      if (this.graph) {
        if (this.graph.context.state === "suspended") this.graph.context.resume();
        return this.graph;
      }
      var Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return null;
      var context = new Context();
      var source = context.createMediaElementSource(this.audio);
      var splitter = context.createChannelSplitter(2);
      var merger = context.createChannelMerger(2);
      var gains = [context.createGain(), context.createGain()];
      splitter.connect(gains[0], 0);
      splitter.connect(gains[1], 1);
      gains[0].connect(merger, 0, 0);
      gains[1].connect(merger, 0, 1);
      merger.connect(context.destination);
      this.graph = { context: context, source: source, splitter: splitter, gains: gains };
      this.route();
      return this.graph;
    },

    // Stereo goes through the per-channel gains; mono goes straight out (a splitter
    // would put a mono signal on the left channel only).
    route: function () {
      var graph = this.graph;
      if (!graph) return;
      graph.source.disconnect();
      if (this.current && this.current.stereo) graph.source.connect(graph.splitter);
      else graph.source.connect(graph.context.destination);
      for (var i = 0; i < 2; i++) graph.gains[i].gain.value = this.muted[i] ? 0 : 1;
    },

    setMuted: function (channel, muted) {
      this.muted[channel] = muted;
      this.ensureGraph();
      this.route();
      this.render();
    },

    gain: function (channel) {
      return this.graph ? this.graph.gains[channel].gain.value : (this.muted[channel] ? 0 : 1);
    },

    // Load the same recording again from where it was, after a failure.
    retry: function () {
      var at = this.audio.currentTime;
      this.failed = false;
      this.pendingSeek = at || null;
      this.audio.load();
      this.play();
    },

    play: function () {
      if (!this.current) return;
      this.ensureGraph();
      var promise = this.audio.play();
      if (promise && promise.catch) promise.catch(function () { /* shown by the paused state */ });
    },
    toggle: function () { if (this.audio.paused) this.play(); else this.audio.pause(); },
    seek: function (seconds) {
      if (this.audio.readyState < 1) { this.pendingSeek = seconds; return; }
      var end = this.audio.duration || seconds;
      this.audio.currentTime = Math.max(0, Math.min(seconds, end));
    },
    skip: function (delta) { this.seek(this.audio.currentTime + delta); },
    stepSpeed: function (direction) {
      var index = SPEEDS.indexOf(this.audio.playbackRate);
      if (index < 0) index = 1;
      index = Math.max(0, Math.min(SPEEDS.length - 1, index + direction));
      this.audio.playbackRate = SPEEDS[index];
    },
    close: function () {
      if (this.current) remember(this.current.id, this.audio.currentTime);
      this.audio.pause();
      this.audio.removeAttribute("src");
      this.audio.load();
      this.current = null;
      if (view) view.unmount();
      view = null;
      mountAll();
      this.render();
    },

    render: function () {
      if (!this.bar) return;
      var audio = this.audio, current = this.current;
      var onOwnPage = view && current && view.id === current.id;
      this.bar.hidden = !current || onOwnPage;
      document.body.classList.toggle("has-now-playing", !this.bar.hidden);
      if (current) {
        var title = this.bar.querySelector(".np-title");
        title.textContent = (this.failed ? "Could not load the recording of " : "Recording of ") + current.title;
        if (title.getAttribute("href") !== current.href) {
          title.setAttribute("href", current.href);
          // htmx reads a boosted link's href when it processes it: process it again.
          if (window.htmx) window.htmx.process(title);
        }
        var toggle = this.bar.querySelector(".np-toggle");
        toggle.textContent = audio.paused ? "▶" : "❚❚";
        toggle.setAttribute("aria-label", audio.paused ? "Play" : "Pause");
        this.bar.querySelector(".np-time").textContent =
          clock(audio.currentTime) + " / " + clock(audio.duration || 0);
      }
      if (view) view.render();
      document.querySelectorAll("[data-action='play-row']").forEach(function (button) {
        var playing = current && button.dataset.recordingId === current.id && !audio.paused;
        button.setAttribute("aria-pressed", playing ? "true" : "false");
        button.textContent = playing ? "❚❚" : "▶";
      });
    }
  };

  // ------------------------------------------------------------- the detail page

  var view = null;

  function DetailView(root) {
    this.root = root;
    this.section = root.closest(".player") || root;
    this.id = root.dataset.recordingId;
    this.stereo = root.dataset.stereo === "true";
    this.wave = null;
  }

  DetailView.prototype.mount = function () {
    var self = this, root = this.root, data = root.dataset;
    var fallback = root.querySelector(":scope > audio");
    if (fallback) { fallback.pause(); fallback.removeAttribute("src"); fallback.load(); fallback.remove(); }
    root.querySelector(".enhanced").hidden = false;
    var copy = this.section.querySelector("[data-action='copy-link']");
    if (copy) copy.hidden = false;
    // Another recording playing in the bar keeps playing until this one is started.
    if (!engine.current || engine.audio.paused || this.isActive()) this.activate(hashTime());

    this.onClick = function (event) {
      var action = event.target.closest("[data-action]");
      if (!action || !self.section.contains(action)) return;
      switch (action.dataset.action) {
        case "toggle":
          if (self.isActive()) engine.toggle();
          else { self.activate(null); engine.play(); }
          break;
        case "back": engine.skip(-SKIP); break;
        case "forward": engine.skip(SKIP); break;
        case "mute":
          if (!self.isActive()) self.activate(null);
          var channel = parseInt(action.dataset.channel, 10);
          engine.setMuted(channel, !engine.muted[channel]);
          break;
        case "help":
          var tip = self.section.querySelector(".help-tip");
          tip.hidden = !tip.hidden;
          action.setAttribute("aria-expanded", tip.hidden ? "false" : "true");
          break;
        case "copy-link": self.copyLink(); break;
        case "retry": engine.retry(); break;
      }
    };
    this.section.addEventListener("click", this.onClick);
    this.section.querySelector("[data-control='speed']").addEventListener("change", function (e) {
      if (!self.isActive()) self.activate(null);
      engine.audio.playbackRate = parseFloat(e.target.value);
    });
    this.section.querySelector("[data-control='volume']").addEventListener("input", function (e) {
      if (!self.isActive()) self.activate(null);
      engine.audio.volume = parseFloat(e.target.value);
    });
    this.section.querySelector("[data-control='seek']").addEventListener("input", function (e) {
      if (!self.isActive()) self.activate(null);
      engine.seek(parseFloat(e.target.value));
    });
    engine.render();
  };

  DetailView.prototype.isActive = function () {
    return engine.current && engine.current.id === this.id;
  };

  DetailView.prototype.activate = function (at) {
    var data = this.root.dataset;
    engine.load({
      id: this.id, src: data.src, href: data.page, title: data.title, stereo: this.stereo,
      played: data.playedUrl
    }, at);
    if (!this.drawn) {
      this.drawn = true;
      this.drawWaveform(data.peaksUrl, parseFloat(data.duration) || 0);
    }
    engine.render();
  };

  DetailView.prototype.drawWaveform = function (url, duration) {
    var self = this, note = this.section.querySelector(".waveform-note");
    var area = this.section.querySelector(".waveform-area");
    function noWaveform(reason) {
      area.hidden = !self.stereo; // keep the lane mute buttons for stereo files
      self.section.querySelector(".waveform").hidden = true;
      note.hidden = false;
      note.textContent = "No waveform: " + reason + " The bar below shows the position.";
    }
    if (!window.WaveSurfer) { noWaveform("the waveform script did not load."); return; }
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("status " + response.status);
        return response.json();
      })
      .then(function (answer) {
        if (!self.root.isConnected) return;
        if (!answer.peaks) { noWaveform(answer.reason); return; }
        var colors = [["#6f8fcf", "#0b57d0"], ["#d08a4a", "#8a4b08"]];
        var height = answer.channels === 2 ? 56 : 72;
        self.wave = WaveSurfer.create({
          container: self.section.querySelector(".waveform"),
          media: engine.audio,
          // The shared <audio> already has this source; passing it keeps wavesurfer from
          // resetting the element or fetching the file.
          url: engine.audio.src,
          peaks: answer.peaks,
          duration: answer.duration || duration,
          height: height,
          normalize: false,
          cspNonce: CSP_NONCE,
          cursorColor: "#1d1f21",
          waveColor: colors[0][0],
          progressColor: colors[0][1],
          splitChannels: answer.channels === 2 ? [
            { waveColor: colors[0][0], progressColor: colors[0][1], height: height },
            { waveColor: colors[1][0], progressColor: colors[1][1], height: height }
          ] : undefined
        });
        self.section.querySelector(".waveform").dataset.drawn = "true";
      })
      .catch(function () {
        if (self.root.isConnected) noWaveform("the server could not read this file's audio.");
      });
  };

  DetailView.prototype.copyLink = function () {
    var link = location.origin + this.root.dataset.page + "#t=" + Math.floor(engine.audio.currentTime);
    var output = this.section.querySelector(".copied");
    function show(text) { output.textContent = text; }
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(link).then(
        function () { show("Copied " + link); },
        function () { show("Copy this link: " + link); }
      );
    } else {
      show("Copy this link: " + link);
    }
  };

  DetailView.prototype.render = function () {
    var audio = engine.audio, mine = this.isActive();
    var section = this.section;
    var play = section.querySelector("[data-action='toggle']");
    var playing = mine && !audio.paused;
    play.textContent = playing ? "❚❚ Pause" : "▶ Play";
    play.setAttribute("aria-label", playing ? "Pause" : "Play");
    section.querySelector(".audio-problem").hidden = !(mine && engine.failed);
    if (!mine) return;
    section.querySelector("[data-show='current']").textContent = clock(audio.currentTime);
    if (audio.duration) section.querySelector("[data-show='total']").textContent = clock(audio.duration);
    var seek = section.querySelector("[data-control='seek']");
    if (audio.duration) seek.max = audio.duration;
    if (document.activeElement !== seek) seek.value = audio.currentTime;
    seek.setAttribute("aria-valuetext", clock(audio.currentTime));
    var speed = section.querySelector("[data-control='speed']");
    speed.value = String(audio.playbackRate);
    section.querySelector("[data-control='volume']").value = audio.volume;
    var mutedChannels = [];
    section.querySelectorAll("[data-action='mute']").forEach(function (button) {
      var channel = parseInt(button.dataset.channel, 10);
      button.setAttribute("aria-pressed", engine.muted[channel] ? "true" : "false");
      button.dataset.gain = String(engine.gain(channel));
      button.firstChild.textContent = engine.muted[channel] ? "Unmute" : "Mute";
      // A muted lane looks muted: its label and its half of the waveform are dimmed.
      button.closest(".lane").classList.toggle("muted", engine.muted[channel]);
      if (engine.muted[channel]) mutedChannels.push(String(channel));
    });
    var wave = section.querySelector(".waveform");
    if (wave) wave.dataset.muted = mutedChannels.join(" ");
  };

  DetailView.prototype.unmount = function () {
    this.section.removeEventListener("click", this.onClick);
    if (this.wave) this.wave.destroy(); // external media: leaves the <audio> playing
    this.wave = null;
  };

  // ----------------------------------------------------------------- wiring up

  function mountAll() {
    engine.init();
    if (view && !view.root.isConnected) { view.unmount(); view = null; }
    var root = document.querySelector("[data-player]");
    if (root && (!view || view.root !== root) && engine.audio) {
      view = new DetailView(root);
      view.mount();
    }
    engine.render();
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action='play-row']");
    if (!button) return;
    var data = button.dataset;
    if (engine.current && engine.current.id === data.recordingId) { engine.toggle(); return; }
    engine.load({
      id: data.recordingId, src: data.src, href: data.page, title: data.title,
      stereo: data.stereo === "true", played: data.playedUrl
    }, null);
    engine.play();
  });

  // Deleting the recording that is in the now-playing bar stops it and closes the bar:
  // its audio is about to be gone.
  document.addEventListener("submit", function (event) {
    var id = event.target.dataset && event.target.dataset.deletesRecording;
    if (id && engine.current && engine.current.id === id) engine.close();
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") {
      document.querySelectorAll(".help-tip:not([hidden])").forEach(function (tip) {
        tip.hidden = true;
        var button = document.querySelector("[aria-controls='" + tip.id + "']");
        if (button) button.setAttribute("aria-expanded", "false");
      });
    }
    if (!engine.current || event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var tag = target.tagName;
    if (tag === "INPUT" || tag === "SELECT" || tag === "TEXTAREA" || target.isContentEditable) return;
    var key = event.key;
    // Space on a player's own button plays or pauses (as everywhere on the page), rather
    // than pressing that button again; on any other button or link it does what it does.
    if (key === " " && (tag === "BUTTON" || tag === "A") && !isPlayerControl(target)) return;
    if (key === " ") engine.toggle();
    else if (key === "ArrowLeft") engine.skip(-SKIP);
    else if (key === "ArrowRight") engine.skip(SKIP);
    else if (key === "[") engine.stepSpeed(-1);
    else if (key === "]") engine.stepSpeed(1);
    else return;
    event.preventDefault();
  });

  function isPlayerControl(element) {
    return Boolean(element.closest && element.closest(".player, #now-playing"));
  }

  // The button's own click comes on keyup: keep it from pressing the button as well.
  document.addEventListener("keyup", function (event) {
    if (event.key === " " && engine.current && isPlayerControl(event.target) &&
        (event.target.tagName === "BUTTON" || event.target.tagName === "A")) {
      event.preventDefault();
    }
  });

  window.addEventListener("hashchange", function () {
    var at = hashTime();
    if (at === null || !view) return;
    if (view.isActive()) engine.seek(at);
    else view.activate(at);
  });

  document.addEventListener("DOMContentLoaded", mountAll);
  document.addEventListener("htmx:afterSettle", mountAll);
  document.addEventListener("htmx:historyRestore", mountAll);

  // ------------------------------------------- notes on the waveform (issue 15)
  // Kept apart from the player above. Each note with a moment (the notes panel's
  // [data-note-at] items) is a marker on the waveform; clicking a marker or a note's time
  // seeks there; "Use the player's time" fills the new note's moment.

  function noteMoments() {
    var panel = document.querySelector("[data-notes-panel]");
    if (!panel) return [];
    return Array.prototype.map.call(panel.querySelectorAll("[data-note-at]"), function (item) {
      var text = item.querySelector(".note-text");
      return { at: parseFloat(item.dataset.noteAt), text: text ? text.textContent.trim() : "" };
    });
  }

  function drawNoteMarkers() {
    var now = document.querySelector("[data-note-now]");
    if (now) now.hidden = !view;
    if (!view) return;
    if (engine.audio && !engine.audio.dataset.noteMarkers) {
      engine.audio.dataset.noteMarkers = "watched";
      engine.audio.addEventListener("durationchange", drawNoteMarkers);
    }
    var wave = view.section.querySelector(".waveform");
    if (!wave) return;
    var layer = wave.querySelector(":scope > .note-markers");
    if (!layer) {
      layer = document.createElement("div");
      layer.className = "note-markers";
      wave.appendChild(layer);
    }
    var duration = (view.isActive() && engine.audio.duration) || parseFloat(view.root.dataset.duration) || 0;
    layer.textContent = "";
    if (!isFinite(duration) || duration <= 0) return;
    noteMoments().forEach(function (note) {
      if (!(note.at >= 0) || note.at > duration) return;
      var marker = document.createElement("button");
      marker.type = "button";
      marker.className = "note-marker";
      marker.tabIndex = -1; // the notes list beside the player is the keyboard's way in
      marker.dataset.noteSeek = String(note.at);
      marker.style.left = (100 * note.at / duration) + "%";
      marker.title = clock(note.at) + " " + note.text;
      layer.appendChild(marker);
    });
  }

  function seekToNote(at) {
    if (!view) return;
    if (view.isActive()) engine.seek(at);
    else view.activate(at);
  }

  document.addEventListener("click", function (event) {
    var seek = event.target.closest("[data-note-seek]");
    if (seek) {
      event.preventDefault();
      seekToNote(parseFloat(seek.dataset.noteSeek));
      return;
    }
    var now = event.target.closest("[data-note-now]");
    if (now && view) {
      var field = now.closest("form").querySelector("[name='at']");
      field.value = clock(view.isActive() ? engine.audio.currentTime : 0);
    }
  });

  document.addEventListener("DOMContentLoaded", drawNoteMarkers);
  document.addEventListener("htmx:afterSettle", drawNoteMarkers);
  document.addEventListener("htmx:historyRestore", drawNoteMarkers);

  // For the browser tests and the curious: the state the UI shows, read-only.
  window.recordingsPlayer = {
    state: function () {
      return {
        id: engine.current && engine.current.id,
        paused: engine.audio ? engine.audio.paused : true,
        currentTime: engine.audio ? engine.audio.currentTime : 0,
        rate: engine.audio ? engine.audio.playbackRate : 1,
        volume: engine.audio ? engine.audio.volume : 1,
        gains: [engine.gain(0), engine.gain(1)]
      };
    }
  };
})();
