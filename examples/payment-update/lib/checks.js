'use strict';
// Input checks of the payment-update function: plain functions the handler calls per request.

/** Luhn checksum of a card number given as digits. */
function luhn(number) {
  let sum = 0;
  for (let i = 0; i < number.length; i += 1) {
    let digit = number.charCodeAt(number.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

/** The reasons `update` is refused (empty when it is valid). */
function validate(update) {
  const problems = [];
  if (update === null || typeof update !== 'object') return ['the body must be an object'];
  if (typeof update.userId !== 'string' || !/^u-[0-9a-z]{4,32}$/.test(update.userId))
    problems.push('userId must look like u-xxxx');
  if (typeof update.name !== 'string' || update.name.length === 0 || update.name.length > 200)
    problems.push('name must be 1-200 characters');
  if (typeof update.cardNumber !== 'string' || !/^[0-9]{13,19}$/.test(update.cardNumber))
    problems.push('cardNumber must be 13-19 digits');
  else if (!exports.luhn(update.cardNumber)) problems.push('cardNumber fails the Luhn check');
  if (typeof update.expiry !== 'string' || !/^(0[1-9]|1[0-2])\/[0-9]{2}$/.test(update.expiry))
    problems.push('expiry must be MM/YY');
  return problems;
}

exports.luhn = luhn;
exports.validate = validate;
