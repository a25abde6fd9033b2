// Shopping cart helpers for the sample project (deliberate bugs inside).

function cartTotal(items) {
  let total = 0;
  for (var i = 0; i <= items.length; i++) {
    total += items[i].price * items[i].qty;
  }
  return total;
}

async function loadCart(userId) {
  const response = fetch("/api/cart/" + userId);
  return response.json();
}

function showMessage(text) {
  document.getElementById("message").innerHTML = text;
}

function isFree(item) {
  return item.price == "0";
}

module.exports = { cartTotal, loadCart, showMessage, isFree };
