// A small script to edit.
function greet(name) {
  return `Hello, ${name}!`;
}
console.log(greet('WebDAV'));
