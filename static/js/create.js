/* The create page: the text/image switch, choices the catalog allows, the live cost and
   character count, drag-and-drop with preview and checks, the audio track's checks and player,
   and the upload progress bar.
   The server checks everything again; this only saves people a round trip. */
(function () {
  "use strict";

  // The catalog and the limits, as the server has them (generations.forms.script_data).
  const dataElement = document.getElementById("catalog-data");
  if (!dataElement) return;
  const rules = JSON.parse(dataElement.textContent);
  const models = Object.fromEntries(rules.models.map((model) => [model.key, model]));

  function form() {
    return document.getElementById("create-form");
  }

  function balance() {
    const header = document.getElementById("credit-balance");
    return header ? Number(header.dataset.balance) : Infinity;
  }

  function kindOf(root) {
    const checked = root.querySelector("input[name='kind']:checked");
    return checked ? checked.value : "t2v";
  }

  /** Keeps the choices valid for the kind and model, and the cost and counts current. */
  function sync() {
    const root = form();
    if (!root) return;
    const kind = kindOf(root);
    const modelSelect = root.querySelector("select[name='model_key']");
    const resolutionSelect = root.querySelector("select[name='resolution']");

    narrow(modelSelect, (value) => models[value] && models[value].kind === kind);
    const model = models[modelSelect.value];
    const offered = model ? model.resolutions.map((r) => r.resolution) : [];
    narrow(resolutionSelect, (value) => offered.includes(value));

    const imageField = root.querySelector("[data-needs-image]");
    const fileInput = root.querySelector("input[name='image']");
    const needsImage = Boolean(model && model.needs_image);
    imageField.hidden = !needsImage;
    fileInput.disabled = !needsImage; // a hidden file must not be uploaded with a text-only job

    const audioField = root.querySelector("[data-takes-audio]");
    const takesAudio = Boolean(model && model.takes_audio);
    audioField.hidden = !takesAudio;
    audioField.querySelectorAll("input").forEach((input) => {
      input.disabled = !takesAudio; // nor a track (or its reuse) with a model that takes none
    });

    // First and last frame: an end image, for the image-to-video models that take one.
    const endField = root.querySelector("[data-takes-end-image]");
    const takesEnd = Boolean(model && model.files && "end_image" in model.files);
    endField.hidden = !takesEnd;
    endField.querySelector("input").disabled = !takesEnd;

    showControls(root, model);

    const variant = model && model.resolutions.find((r) => r.resolution === resolutionSelect.value);
    const cost = variant ? costOf(root, model, variant) : null;
    root.querySelector("[data-cost]").textContent = cost === null ? "\u2013" : String(cost);
    root.querySelector("[data-balance-view]").textContent = String(balance());
    const short = cost !== null && cost > balance();
    root.querySelector("[data-insufficient]").hidden = !short;
    const submit = root.querySelector("[data-submit]");
    submit.disabled = short;

    countPrompt(root);
  }

  /** The catalog's pricing rule: a length-priced model's credits are per native clip
      (catalog.CatalogModel.cost). */
  function costOf(root, model, variant) {
    if (!model.priced_by_length) return variant.credits;
    let units = 1;
    model.controls.forEach((control) => {
      if (control.name !== "duration" && control.name !== "frame_num") return;
      const input = root.querySelector("[data-control='" + control.name + "']");
      const value = Number(input && input.value ? input.value : control.default);
      units =
        value /
        (control.name === "frame_num" ? rules.pricing.clip_frames : rules.pricing.clip_seconds);
    });
    return Math.ceil(variant.credits * units);
  }

  /** Shows the advanced settings the model has, with its ranges and defaults from the catalog;
      the others are hidden and disabled, so they are not sent. */
  function showControls(root, model) {
    const negative = root.querySelector("textarea[name='negative_prompt']");
    toggleField(negative, Boolean(model && model.takes_negative_prompt));
    root.querySelectorAll("[data-control]").forEach((input) => {
      const control = model && model.controls.find((c) => c.name === input.dataset.control);
      toggleField(input, Boolean(control));
      if (!control) return;
      const shown = control.default === null ? "" : "Default: " + describe(control.default);
      if (control.kind === "choice" || control.kind === "boolean") {
        const offered = control.choices.map(String);
        narrow(input, (value) => value === "" || offered.includes(value));
        input.options[0].textContent = shown || "Model default";
      } else if (control.kind !== "url") {
        input.min = control.minimum;
        input.max = control.maximum;
        input.step = control.kind === "integer" ? "1" : "any";
        input.placeholder = shown;
      }
    });
  }

  function describe(value) {
    if (value === true) return "on";
    if (value === false) return "off";
    return String(value);
  }

  function toggleField(input, shown) {
    const field = input.closest(".field");
    field.hidden = !shown;
    input.disabled = !shown;
  }

  /** Disables (and hides) the options `allowed` rejects, moving the selection if it must. */
  function narrow(select, allowed) {
    let firstAllowed = null;
    Array.from(select.options).forEach((option) => {
      const ok = allowed(option.value);
      option.disabled = !ok;
      option.hidden = !ok;
      if (ok && firstAllowed === null) firstAllowed = option;
    });
    Array.from(select.querySelectorAll("optgroup")).forEach((group) => {
      group.hidden = Array.from(group.children).every((option) => option.hidden);
    });
    if (select.selectedOptions.length === 0 || select.selectedOptions[0].disabled) {
      if (firstAllowed) firstAllowed.selected = true;
    }
  }

  function countPrompt(root) {
    const prompt = root.querySelector("textarea[name='prompt']");
    const counter = root.querySelector("[data-prompt-count]");
    const length = prompt.value.trim().length;
    const { min, max } = rules.prompt;
    counter.textContent = length + "/" + max;
    const invalid = length > 0 && (length < min || length > max);
    counter.classList.toggle("is-invalid", invalid);
    counter.title = length < min ? "At least " + min + " characters" : "";
  }

  // Images: the same checks as the server's (type and size, then the decoded dimensions), then a
  // local preview.
  function imageProblem(file) {
    const limits = rules.image;
    if (!limits.types.includes(file.type)) return "Only JPEG, PNG and WebP images are accepted.";
    if (file.size > limits.max_bytes) {
      return "The image is larger than " + limits.max_size + "; choose a smaller one.";
    }
    if (file.size === 0) return "The image file is empty.";
    return "";
  }

  function dimensionsProblem(width, height) {
    const limits = rules.image;
    if (width * height > limits.max_pixels) {
      return (
        "The image has too many pixels; use one of at most " +
        Math.floor(limits.max_pixels / 1e6) + " megapixels."
      );
    }
    if (Math.min(width, height) < limits.min_side) {
      return "The image must be at least " + limits.min_side + " pixels on each side.";
    }
    return "";
  }

  /** Shows (or clears) a field's problem; a file input with a problem is emptied. */
  function flag(input, error, problem) {
    error.textContent = problem;
    error.hidden = !problem;
    input.setAttribute("aria-invalid", problem ? "true" : "false");
    if (problem && input.type === "file") input.value = "";
  }

  function showImage(root, file) {
    const input = root.querySelector("input[name='image']");
    const preview = root.querySelector("[data-preview]");
    const error = root.querySelector("[data-image-error]");
    if (preview.src) URL.revokeObjectURL(preview.src);
    preview.onload = null;
    preview.hidden = true;
    preview.removeAttribute("src");
    const problem = file ? imageProblem(file) : "";
    flag(input, error, problem);
    if (!file || problem) return;
    preview.onload = () => {
      const size = dimensionsProblem(preview.naturalWidth, preview.naturalHeight);
      flag(input, error, size);
      preview.hidden = Boolean(size);
    };
    // An image the browser cannot decode is left to the server, which decodes it for real.
    preview.src = URL.createObjectURL(file);
  }

  // Audio tracks: the server's checks on type and size, then its length once the browser has
  // read it (to the tenth of a second, as the server rounds), with a player to listen first.
  function audioProblem(file) {
    const limits = rules.audio;
    const name = file.name.toLowerCase();
    const named = limits.extensions.some((extension) => name.endsWith(extension));
    if (!limits.types.includes(file.type) && !named) {
      return "Only WAV and MP3 audio tracks are accepted.";
    }
    if (file.size > limits.max_bytes) {
      return "The audio track is larger than " + limits.max_size + "; choose a smaller one.";
    }
    if (file.size === 0) return "The audio file is empty.";
    return "";
  }

  function lengthProblem(seconds) {
    const { min_seconds: min, max_seconds: max } = rules.audio;
    const tenths = Math.round(seconds * 10) / 10;
    if (tenths >= min && tenths <= max) return "";
    return (
      "The audio track must be between " + min + " and " + max +
      " seconds long; this one is " + seconds.toFixed(1) + " s."
    );
  }

  function showAudio(root, file) {
    const input = root.querySelector("input[name='audio']");
    const player = root.querySelector("[data-audio-preview]");
    const error = root.querySelector("[data-audio-error]");
    if (player.src) URL.revokeObjectURL(player.src);
    player.hidden = true;
    player.removeAttribute("src");
    player.onloadedmetadata = null;
    const problem = file ? audioProblem(file) : "";
    flag(input, error, problem);
    if (!file || problem) return;
    // A file the browser cannot read is left to the server, which decodes it for real.
    player.onloadedmetadata = () => {
      const length = Number.isFinite(player.duration) ? lengthProblem(player.duration) : "";
      flag(input, error, length);
      player.hidden = Boolean(length);
    };
    player.src = URL.createObjectURL(file);
  }

  document.addEventListener("change", (event) => {
    const root = form();
    if (!root || !root.contains(event.target)) return;
    if (event.target.name === "image") {
      showImage(root, event.target.files[0]);
    } else if (event.target.name === "audio") {
      showAudio(root, event.target.files[0]);
    } else {
      sync();
    }
  });

  document.addEventListener("input", (event) => {
    const root = form();
    if (root && event.target.name === "prompt" && root.contains(event.target)) {
      countPrompt(root);
      flag(event.target, root.querySelector("[data-prompt-error]"), "");
    }
  });

  function dropzoneOf(event) {
    const root = form();
    return root && event.target.closest ? event.target.closest("[data-needs-image]") : null;
  }

  ["dragenter", "dragover"].forEach((type) => {
    document.addEventListener(type, (event) => {
      const field = dropzoneOf(event);
      if (!field) return;
      event.preventDefault();
      field.querySelector("[data-dropzone]").classList.add("is-dragging");
    });
  });

  document.addEventListener("dragleave", (event) => {
    const field = dropzoneOf(event);
    if (field && !field.contains(event.relatedTarget)) {
      field.querySelector("[data-dropzone]").classList.remove("is-dragging");
    }
  });

  document.addEventListener("drop", (event) => {
    const field = dropzoneOf(event);
    if (!field) return;
    event.preventDefault();
    field.querySelector("[data-dropzone]").classList.remove("is-dragging");
    const files = event.dataTransfer && event.dataTransfer.files;
    if (!files || files.length === 0) return;
    const input = field.querySelector("input[name='image']");
    const chosen = new DataTransfer();
    chosen.items.add(files[0]);
    input.files = chosen.files;
    showImage(form(), files[0]);
  });

  document.addEventListener("click", (event) => {
    const zone = event.target.closest("[data-dropzone]");
    if (zone) zone.closest("[data-needs-image]").querySelector("input[name='image']").click();
  });

  // Upload progress, from htmx's XHR events.
  document.addEventListener("htmx:xhr:loadstart", (event) => {
    if (event.target !== form()) return;
    const box = form().querySelector("[data-upload-progress]");
    const files = Array.from(form().querySelectorAll("input[type='file']"));
    box.hidden = !files.some((input) => !input.disabled && input.files.length);
    box.querySelector("progress").value = 0;
  });
  document.addEventListener("htmx:xhr:progress", (event) => {
    if (event.target !== form() || !event.detail.lengthComputable) return;
    form().querySelector("[data-upload-progress] progress").value =
      Math.round((event.detail.loaded / event.detail.total) * 100);
  });

  // Checks on submit, before anything is uploaded: the prompt's length and a missing image, with
  // the server's sentences. (The files were checked when they were chosen.)
  function submitProblems(root) {
    const prompt = root.querySelector("textarea[name='prompt']");
    const length = prompt.value.trim().length;
    const { min, max } = rules.prompt;
    const promptProblem =
      length < min || length > max
        ? "The prompt must be " + min + " to " + max + " characters long (it is " + length + ")."
        : "";
    flag(prompt, root.querySelector("[data-prompt-error]"), promptProblem);

    const image = root.querySelector("input[name='image']");
    const imageError = root.querySelector("[data-image-error]");
    const reused = root.querySelector(".remix-image");
    if (!image.disabled && image.files.length === 0 && !reused && imageError.hidden) {
      flag(image, imageError, "Image-to-video needs an input image.");
    }
    // What this page found (the server's own marks are left for it to judge again).
    return [prompt, image, root.querySelector("input[name='audio']")].filter(
      (input) =>
        !input.disabled && !input.closest(".field").querySelector("p.field-error").hidden
    );
  }

  document.addEventListener("htmx:beforeRequest", (event) => {
    const root = form();
    if (!root || event.detail.elt !== root) return;
    const invalid = submitProblems(root);
    if (invalid.length) {
      event.preventDefault(); // nothing leaves the page
      invalid[0].focus();
    }
  });

  // The server's refusal swaps in a new form, with every field's value but empty file inputs:
  // the files stay in the page and are chosen again, unless the server refused that very file.
  let chosenFiles = {};
  document.addEventListener("htmx:beforeSwap", (event) => {
    const root = form();
    if (!root || event.detail.target !== root) return;
    chosenFiles = {};
    root.querySelectorAll("input[type='file']").forEach((input) => {
      if (!input.disabled && input.files.length) chosenFiles[input.name] = input.files[0];
    });
  });

  function chooseAgain(root) {
    Object.entries(chosenFiles).forEach(([name, file]) => {
      const input = root.querySelector("input[type='file'][name='" + name + "']");
      if (!input || input.closest(".field").classList.contains("has-error")) return;
      const transfer = new DataTransfer();
      transfer.items.add(file);
      input.files = transfer.files;
      if (name === "image") showImage(root, file);
      else showAudio(root, file);
    });
    chosenFiles = {};
  }

  // After the server answers with errors, the form is swapped: set it up and show the first error.
  document.addEventListener("htmx:afterSettle", (event) => {
    const root = form();
    if (!root || event.target !== root) return;
    chooseAgain(root);
    sync();
    const invalid = root.querySelector("#form-errors, [aria-invalid='true']");
    if (invalid) {
      if (invalid.id === "form-errors") invalid.setAttribute("tabindex", "-1");
      invalid.focus();
    }
  });

  // The header balance changes with every HTMX answer: the cost check follows it.
  document.addEventListener("htmx:oobAfterSwap", sync);
  document.addEventListener("DOMContentLoaded", sync);
})();
