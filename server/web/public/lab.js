/* global window, document, fetch, URLSearchParams, FormData */
// The lab page without reloads: CodeMirror on the YAML textarea (when it loaded), and forms marked
// data-partial sent with fetch; the server answers with the changed parts of the page as HTML.
// Without this script every form still works as a normal post-and-redirect.
(function () {
  'use strict';

  function prefersReducedMotion() {
    return Boolean(window.matchMedia && window.matchMedia('(prefers-reduced-motion: reduce)').matches);
  }

  var textarea = document.getElementById('manifests');
  var editor = null;

  if (textarea && window.CodeMirror) {
    var leaving = false;
    editor = window.CodeMirror.fromTextArea(textarea, {
      mode: 'yaml',
      lineNumbers: true,
      gutters: ['CodeMirror-linenumbers', 'problem-gutter'],
      indentUnit: 2,
      tabSize: 2,
      indentWithTabs: false,
      screenReaderLabel: 'NetworkPolicy YAML',
      // A steady cursor for those who asked their system for less motion (0 turns blinking off).
      cursorBlinkRate: prefersReducedMotion() ? 0 : 530,
      extraKeys: {
        // YAML forbids tabs: Tab indents with spaces.
        Tab: function (cm) {
          if (cm.somethingSelected()) cm.indentSelection('add');
          else cm.replaceSelection('  ', 'end');
        },
        'Shift-Tab': function (cm) {
          cm.indentSelection('subtract');
        },
      },
    });
    // Esc then Tab (or Shift-Tab) leaves the editor, so keyboard users are never trapped in it.
    editor.on('keydown', function (_cm, event) {
      if (event.key === 'Escape') {
        leaving = true;
      } else if (event.key === 'Tab' && leaving) {
        leaving = false;
        event.codemirrorIgnore = true;
      } else if (event.key !== 'Shift') {
        leaving = false;
      }
    });
    var help = document.getElementById('manifests-help');
    var input = editor.getInputField();
    if (help && input) input.setAttribute('aria-describedby', 'manifests-help');
    // Clicking the label focuses the editor, as it would the textarea.
    var label = document.querySelector('label[for="manifests"]');
    if (label) {
      label.addEventListener('click', function () {
        editor.focus();
      });
    }
  }

  // Lines the last check's YAML problems point at, marked in the editor until the next check.
  var marked = [];

  function clearProblemLines() {
    if (!editor) return;
    marked.forEach(function (handle) {
      editor.removeLineClass(handle, 'wrap', 'cm-problem-line');
      editor.setGutterMarker(handle, 'problem-gutter', null);
    });
    marked = [];
  }

  // The problems listed in the result name their lines (data-line): mark those in the editor.
  function markProblemLines() {
    if (!editor) return;
    document.querySelectorAll('#section-result a.where[data-line]').forEach(function (link) {
      var handle = editor.getLineHandle(Number(link.getAttribute('data-line')) - 1);
      if (!handle) return;
      editor.addLineClass(handle, 'wrap', 'cm-problem-line');
      var marker = document.createElement('span');
      marker.className = 'cm-problem-gutter';
      marker.textContent = '!';
      marker.title = link.parentElement ? link.parentElement.textContent : '';
      editor.setGutterMarker(handle, 'problem-gutter', marker);
      marked.push(handle);
    });
  }

  function goToLine(line, column) {
    if (editor) {
      editor.focus();
      editor.setCursor({ line: line - 1, ch: Math.max(0, (column || 1) - 1) });
      editor.scrollIntoView(null, 80);
      editor.getWrapperElement().scrollIntoView({ block: 'center' });
    } else if (textarea) {
      var lines = textarea.value.split('\n');
      var offset = 0;
      for (var i = 0; i < line - 1 && i < lines.length; i++) offset += lines[i].length + 1;
      textarea.focus();
      textarea.setSelectionRange(offset, offset);
    }
  }

  // The result sits below the task; after Check it is brought into view (on a phone it would
  // otherwise be thousands of pixels below the button).
  function showResult() {
    var section = document.getElementById('result');
    var heading = document.getElementById('result-title');
    if (section) section.scrollIntoView({ block: 'start' });
    if (heading) heading.focus({ preventScroll: true });
  }

  function revealLoadButton() {
    var button = document.getElementById('load-solution');
    if (button && (editor || textarea)) button.hidden = false;
  }

  document.addEventListener('click', function (event) {
    var target = event.target;
    if (!(target instanceof window.Element)) return;
    var where = target.closest('a.where[data-line]');
    if (where) {
      event.preventDefault();
      goToLine(Number(where.getAttribute('data-line')), Number(where.getAttribute('data-column')));
      return;
    }
    if (target.closest('#load-solution')) {
      var pre = document.getElementById('solution-text');
      if (!pre) return;
      if (editor) editor.setValue(pre.textContent);
      else if (textarea) textarea.value = pre.textContent;
      clearProblemLines();
      goToLine(1, 1);
    }
  });

  function replaceSections(sections) {
    Object.keys(sections || {}).forEach(function (name) {
      var target = document.getElementById('section-' + name);
      if (target) target.innerHTML = sections[name];
    });
    bindForms(document);
    revealLoadButton();
  }

  function showError(form, message) {
    var result = document.getElementById('section-result');
    if (!result) return;
    var box = document.createElement('div');
    box.className = 'verdict verdict-env';
    box.setAttribute('role', 'alert');
    box.textContent = message;
    result.replaceChildren(box);
  }

  function submitPartial(form, event) {
    if (!window.fetch || !window.URLSearchParams) return;
    event.preventDefault();
    if (editor && form.contains(textarea)) editor.save();
    if (form.getAttribute('data-partial') === 'check') clearProblemLines();
    var button = form.querySelector('button[type="submit"]');
    var label = button ? button.textContent : '';
    var kind = form.getAttribute('data-partial');
    if (button) {
      button.disabled = true;
      if (kind === 'check') button.textContent = 'Checking…';
    }
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: { 'X-Kubelab-Partial': '1', Accept: 'application/json' },
    })
      .then(function (response) {
        return response.json().then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (r) {
        if (r.data && r.data.sections) replaceSections(r.data.sections);
        else if (!r.ok)
          showError(form, (r.data && r.data.error && r.data.error.message) || 'The request failed.');
        if (kind === 'check') {
          markProblemLines();
          showResult();
        }
      })
      .catch(function () {
        showError(form, 'The kubelab server did not answer. Is it still running?');
      })
      .finally(function () {
        if (button && document.body.contains(button)) {
          button.disabled = false;
          button.textContent = label;
        }
      });
  }

  function bindForms(root) {
    root.querySelectorAll('form[data-partial]').forEach(function (form) {
      if (form.dataset.bound === '1') return;
      form.dataset.bound = '1';
      form.addEventListener('submit', function (event) {
        submitPartial(form, event);
      });
    });
  }

  bindForms(document);
  revealLoadButton();
  markProblemLines();
})();
