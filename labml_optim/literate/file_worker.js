// Lets the site's search run when the site is opened from disk (file://).
//
// Browsers refuse to start a Web Worker from a file:// page, and mkdocs-material's search
// runs in one. On file:// pages only, this replaces `Worker` with one that runs the worker
// script in a hidden same-origin iframe: messages go in as `message` events on the frame's
// window and come out through its `postMessage`. Over http(s) it does nothing.
(function () {
  "use strict";
  if (location.protocol !== "file:") return;

  class FrameWorker extends EventTarget {
    constructor(url) {
      super();
      this.onmessage = null;
      this.onerror = null;
      this._queue = [];
      this._ready = false;
      const frame = document.createElement("iframe");
      frame.hidden = true;
      frame.setAttribute("aria-hidden", "true");
      frame.tabIndex = -1;
      const src = new URL(url, location.href).href;
      const deliver = (data) => {
        const event = new MessageEvent("message", { data });
        if (typeof this.onmessage === "function") this.onmessage(event);
        this.dispatchEvent(event);
      };
      frame.addEventListener("load", () => {
        const win = frame.contentWindow;
        win.postMessage = deliver;
        win.importScripts = () => {
          throw new Error("importScripts is not available to a worker run from file://");
        };
        const script = win.document.createElement("script");
        script.src = src;
        script.addEventListener("load", () => {
          this._ready = true;
          for (const data of this._queue.splice(0)) this._send(data);
        });
        script.addEventListener("error", () => {
          const event = new ErrorEvent("error", { message: `cannot load ${src}` });
          if (typeof this.onerror === "function") this.onerror(event);
          this.dispatchEvent(event);
        });
        win.document.body.appendChild(script);
      });
      frame.srcdoc = "<!doctype html><title>worker</title><body></body>";
      this._frame = frame;
      (document.body || document.documentElement).appendChild(frame);
    }

    _send(data) {
      const win = this._frame.contentWindow;
      win.dispatchEvent(new win.MessageEvent("message", { data }));
    }

    postMessage(data) {
      if (this._ready) this._send(data);
      else this._queue.push(data);
    }

    terminate() {
      this._frame.remove();
    }
  }

  window.Worker = FrameWorker;
})();
