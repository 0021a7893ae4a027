// The web catalog's few lines of script: live search, and a player that starts at ?t= and follows the transcript.
"use strict";

function liveSearch() {
  const form = document.getElementById("search-form");
  const box = document.getElementById("q");
  if (!form || !box) return;
  let timer = null, asked = 0;
  box.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(async () => {
      const query = new URLSearchParams(new FormData(form));
      for (const [k, v] of [...query.entries()]) if (!v) query.delete(k);
      const ticket = ++asked;
      const answer = await fetch("/?" + query.toString(), {headers: {"Accept": "text/html"}});
      if (ticket !== asked) return;  // a newer keystroke already asked
      const page = new DOMParser().parseFromString(await answer.text(), "text/html");
      const fresh = page.getElementById("results");
      if (fresh) {
        document.getElementById("results").replaceWith(fresh);
        history.replaceState(null, "", "/?" + query.toString());
      }
    }, 400);
  });
}

function followTranscript(player) {
  const lines = [...document.querySelectorAll("#transcript .line")];
  const mark = (t) => {
    for (const line of lines) {
      const on = t >= parseFloat(line.dataset.start) - 0.05 && t < parseFloat(line.dataset.end);
      if (on !== line.classList.contains("current")) {
        line.classList.toggle("current", on);
        if (on) line.scrollIntoView({block: "nearest"});
      }
    }
  };
  const start = parseFloat(player ? player.dataset.start : new URLSearchParams(location.search).get("t")) || 0;
  mark(start);
  if (!player) return;
  const seekTo = (t) => { player.currentTime = t; mark(t); };
  if (player.readyState >= 1) seekTo(start);
  else player.addEventListener("loadedmetadata", () => seekTo(start), {once: true});
  player.addEventListener("timeupdate", () => mark(player.currentTime));
  player.addEventListener("seeked", () => mark(player.currentTime));
  document.addEventListener("click", (event) => {
    const link = event.target.closest("[data-seek]");
    if (!link) return;
    event.preventDefault();
    const t = parseFloat(link.dataset.seek) || 0;
    seekTo(t);
    history.replaceState(null, "", "?t=" + t.toFixed(2));
  });
}

document.addEventListener("DOMContentLoaded", () => {
  liveSearch();
  if (document.getElementById("transcript") || document.getElementById("player")) {
    followTranscript(document.getElementById("player"));
  }
});
