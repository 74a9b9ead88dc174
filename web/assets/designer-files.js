// The designer's file choosers: with JavaScript, a file chosen from disk fills the text box its input names
// (`data-fills`), a BPMN file or a scenario; without it, the text is pasted and the chooser stays hidden.
// Nothing is sent until the person presses the form's button.
(function () {
  if (!window.FileReader) return;
  document.querySelectorAll('input[type="file"][data-fills]').forEach(function (input) {
    var box = document.getElementById(input.getAttribute('data-fills'));
    var group = input.closest('.nhsuk-form-group');
    if (!box || !group) return;
    group.hidden = false;
    input.addEventListener('change', function () {
      var file = input.files && input.files[0];
      if (!file) return;
      var reader = new FileReader();
      reader.onload = function () {
        box.value = String(reader.result);
      };
      reader.readAsText(file);
    });
  });
})();
