/* global window, document, fetch, URLSearchParams, FormData */
// The lab page without reloads: CodeMirror on the YAML textarea (when it loaded), and forms marked
// data-partial sent with fetch; the server answers with the changed parts of the page as HTML.
// Without this script every form still works as a normal post-and-redirect.
(function () {
  'use strict';

  var textarea = document.getElementById('manifests');
  var editor = null;

  if (textarea && window.CodeMirror) {
    var leaving = false;
    editor = window.CodeMirror.fromTextArea(textarea, {
      mode: 'yaml',
      lineNumbers: true,
      indentUnit: 2,
      tabSize: 2,
      indentWithTabs: false,
      screenReaderLabel: 'NetworkPolicy YAML',
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

  function replaceSections(sections) {
    Object.keys(sections || {}).forEach(function (name) {
      var target = document.getElementById('section-' + name);
      if (target) target.innerHTML = sections[name];
    });
    bindForms(document);
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
          var heading = document.getElementById('result-title');
          if (heading) heading.focus();
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
})();
