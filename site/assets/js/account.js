// The signed-out view: sign in, sign up, the confirmation code step and the password reset.
//
// An error about one field is shown under that field (and marks it invalid); the rest under the form.

import { byId, setText, clearText, reportError, describeError, showOnly } from './ui.js';
import { AuthError, isMovedAccount } from './auth.js';

const EMAIL_PATTERN = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 8;

export function createAccountView({ auth }) {
  const el = {
    notice: byId('auth-notice'),
    signin: byId('signin-form'),
    signinEmail: byId('signin-email'),
    signinPassword: byId('signin-password'),
    signinError: byId('signin-error'),
    signup: byId('signup-form'),
    signupEmail: byId('signup-email'),
    signupPassword: byId('signup-password'),
    signupError: byId('signup-error'),
    confirm: byId('confirm-form'),
    confirmIntro: byId('confirm-intro'),
    confirmEmail: byId('confirm-email'),
    confirmCode: byId('confirm-code'),
    confirmError: byId('confirm-error'),
    forgot: byId('forgot-form'),
    forgotEmail: byId('forgot-email'),
    forgotError: byId('forgot-error'),
    reset: byId('reset-form'),
    resetIntro: byId('reset-intro'),
    resetEmail: byId('reset-email'),
    resetCode: byId('reset-code'),
    resetPassword: byId('reset-password'),
    resetError: byId('reset-error'),
  };
  const forms = [el.signin, el.signup, el.confirm, el.forgot, el.reset];
  const formErrors = [el.signinError, el.signupError, el.confirmError, el.forgotError, el.resetError];
  // Kept in memory only between sign-up and confirmation, to sign in without asking again.
  let pendingPassword = null;

  function showForm(form, { focus = true } = {}) {
    showOnly(forms, form);
    for (const error of formErrors) clearText(error);
    for (const other of forms) clearFieldErrors(other);
    if (focus) form.querySelector('h1')?.focus();
  }

  function showConfirm(email, destination) {
    el.confirmEmail.value = email;
    el.confirmCode.value = '';
    setText(el.confirmIntro, destination || email ? 'auth.confirmIntro' : 'auth.confirmIntroGeneric', {
      email: destination || email,
    });
    showForm(el.confirm, { focus: false });
    (email ? el.confirmCode : el.confirmEmail).focus();
  }

  /** The error line under `input` (made on first use), tied to it for screen readers. */
  function fieldErrorLine(input) {
    const id = `${input.id}-error`;
    let line = document.getElementById(id);
    if (!line) {
      line = document.createElement('p');
      line.id = id;
      line.className = 'form-error field-error';
      line.dataset.testid = `${input.dataset.testid}-error`;
      line.setAttribute('role', 'alert');
      const field = input.closest('.field') ?? input.parentElement;
      field.append(line);
      const described = (input.getAttribute('aria-describedby') ?? '').split(' ').filter(Boolean);
      input.setAttribute('aria-describedby', [...described, id].join(' '));
    }
    return line;
  }

  function showFieldError(input, key, params = {}) {
    setText(fieldErrorLine(input), key, params);
    input.setAttribute('aria-invalid', 'true');
    input.focus();
  }

  function clearFieldErrors(form) {
    for (const input of form.querySelectorAll('input[aria-invalid="true"]')) input.removeAttribute('aria-invalid');
    for (const line of form.querySelectorAll('.field-error')) clearText(line);
  }

  /** The field of `form` a Cognito error is about, if it is about one. */
  function fieldFor(form, error) {
    const byType = {
      InvalidPasswordException: 'input[type="password"]',
      UsernameExistsException: 'input[type="email"]',
      InvalidParameterException: 'input[type="email"]',
      CodeMismatchException: 'input[name="code"]',
      ExpiredCodeException: 'input[name="code"]',
    };
    const selector = error instanceof AuthError ? byType[error.code] : null;
    return selector ? form.querySelector(selector) : null;
  }

  /** Runs a form action with its submit button disabled and errors shown in the form. */
  async function busy(form, errorEl, action) {
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach((button) => {
      button.disabled = true;
    });
    form.setAttribute('aria-busy', 'true');
    clearText(errorEl);
    clearFieldErrors(form);
    try {
      await action();
    } catch (error) {
      const input = fieldFor(form, error);
      if (input) {
        const { key, params } = describeError(error);
        showFieldError(input, key, params);
        console.warn(error.message);
      } else {
        reportError(error, errorEl);
      }
      return error;
    } finally {
      buttons.forEach((button) => {
        button.disabled = false;
      });
      form.setAttribute('aria-busy', 'false');
    }
    return null;
  }

  function checkEmail(input) {
    clearFieldErrors(input.form);
    const email = input.value.trim();
    if (!email) showFieldError(input, 'auth.missingEmail');
    else if (!EMAIL_PATTERN.test(email)) showFieldError(input, 'auth.invalidEmail');
    else return email;
    return null;
  }

  function checkNewPassword(input) {
    if (input.value.length >= MIN_PASSWORD) return input.value;
    showFieldError(input, 'auth.shortPassword');
    return null;
  }

  byId('show-signup').addEventListener('click', () => {
    el.signupEmail.value = el.signupEmail.value || el.signinEmail.value;
    clearText(el.notice);
    showForm(el.signup);
  });
  byId('show-signin').addEventListener('click', () => showForm(el.signin));
  byId('confirm-back').addEventListener('click', () => {
    pendingPassword = null;
    showForm(el.signin);
  });

  el.signin.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearText(el.signinError);
    const email = checkEmail(el.signinEmail);
    if (!email) return;
    const password = el.signinPassword.value;
    if (!password) {
      showFieldError(el.signinPassword, 'auth.missingPassword');
      return;
    }
    const error = await busy(el.signin, el.signinError, () => auth.signIn(email, password));
    if (error instanceof AuthError && error.code === 'UserNotConfirmedException') {
      pendingPassword = password;
      showConfirm(email);
      reportError(error, el.confirmError);
    } else if (isMovedAccount(error)) {
      // An account moved from the old Mumble: the code is on its way (Auth#signIn sent it).
      el.signinPassword.value = '';
      showReset(email);
      reportError(error, el.resetError);
    } else if (!error) {
      el.signinPassword.value = '';
      clearText(el.notice);
    }
  });

  el.signup.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearText(el.signupError);
    const email = checkEmail(el.signupEmail);
    if (!email) return;
    const password = checkNewPassword(el.signupPassword);
    if (!password) return;
    let answer = null;
    const error = await busy(el.signup, el.signupError, async () => {
      answer = await auth.signUp(email, password);
    });
    if (error) return;
    el.signupPassword.value = '';
    if (answer?.UserConfirmed) {
      // Some pools confirm automatically: go straight in.
      const signInError = await busy(el.signup, el.signupError, () => auth.signIn(email, password));
      if (!signInError) return;
    }
    pendingPassword = password;
    showConfirm(email, answer?.CodeDeliveryDetails?.Destination);
  });

  el.confirm.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearText(el.confirmError);
    const email = checkEmail(el.confirmEmail);
    if (!email) return;
    const code = el.confirmCode.value.trim();
    if (!code) {
      showFieldError(el.confirmCode, 'auth.missingCode');
      return;
    }
    const error = await busy(el.confirm, el.confirmError, () => auth.confirmSignUp(email, code));
    if (error) {
      el.confirmCode.focus();
      return;
    }
    if (pendingPassword) {
      const password = pendingPassword;
      pendingPassword = null;
      const signInError = await busy(el.confirm, el.confirmError, () => auth.signIn(email, password));
      if (!signInError) return;
    }
    el.signinEmail.value = email;
    showForm(el.signin, { focus: false });
    setText(el.notice, 'auth.confirmedSignIn');
    el.signinPassword.focus();
  });

  byId('resend-code').addEventListener('click', async () => {
    const email = checkEmail(el.confirmEmail);
    if (!email) return;
    const error = await busy(el.confirm, el.confirmError, () => auth.resendCode(email));
    if (!error) setText(el.confirmIntro, 'auth.codeResent', { email });
  });

  // Forgotten password: the email, then the code from the email and a new password.
  function showReset(email, destination) {
    el.resetEmail.value = email;
    el.resetCode.value = '';
    el.resetPassword.value = '';
    setText(el.resetIntro, 'auth.resetIntro', { email: destination || email });
    showForm(el.reset, { focus: false });
    el.resetCode.focus();
  }

  byId('show-forgot').addEventListener('click', () => {
    el.forgotEmail.value = el.forgotEmail.value || el.signinEmail.value;
    clearText(el.notice);
    showForm(el.forgot);
  });
  for (const id of ['forgot-back', 'reset-back']) {
    byId(id).addEventListener('click', () => showForm(el.signin));
  }

  el.forgot.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearText(el.forgotError);
    const email = checkEmail(el.forgotEmail);
    if (!email) return;
    let answer = null;
    const error = await busy(el.forgot, el.forgotError, async () => {
      answer = await auth.forgotPassword(email);
    });
    if (!error) showReset(email, answer?.CodeDeliveryDetails?.Destination);
  });

  byId('reset-resend').addEventListener('click', async () => {
    const email = checkEmail(el.resetEmail);
    if (!email) return;
    const error = await busy(el.reset, el.resetError, () => auth.forgotPassword(email));
    if (!error) setText(el.resetIntro, 'auth.codeResent', { email });
  });

  el.reset.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearText(el.resetError);
    const email = checkEmail(el.resetEmail);
    if (!email) return;
    const code = el.resetCode.value.trim();
    if (!code) {
      showFieldError(el.resetCode, 'auth.missingCode');
      return;
    }
    const password = checkNewPassword(el.resetPassword);
    if (!password) return;
    const error = await busy(el.reset, el.resetError, () => auth.confirmForgotPassword(email, code, password));
    if (error) return;
    el.resetPassword.value = '';
    // Straight in with the new password; should that fail, the sign-in form says why.
    const signInError = await busy(el.reset, el.resetError, () => auth.signIn(email, password));
    if (!signInError) return;
    el.signinEmail.value = email;
    showForm(el.signin, { focus: false });
    setText(el.notice, 'auth.passwordChanged');
    el.signinPassword.focus();
  });

  return {
    /** Shows the sign-in form, optionally with a notice (signed out, session expired). */
    show({ noticeKey } = {}) {
      if (noticeKey) setText(el.notice, noticeKey);
      if (forms.every((form) => form.hidden)) showForm(el.signin, { focus: false });
    },
    reset({ noticeKey } = {}) {
      pendingPassword = null;
      el.signinPassword.value = '';
      el.signupPassword.value = '';
      el.resetPassword.value = '';
      if (noticeKey) setText(el.notice, noticeKey);
      else clearText(el.notice);
      showForm(el.signin, { focus: false });
    },
  };
}
