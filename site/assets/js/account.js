// The signed-out view: sign in, sign up and the confirmation code step.

import { byId, setText, clearText, reportError, showOnly } from './ui.js';
import { AuthError } from './auth.js';

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
  };
  const forms = [el.signin, el.signup, el.confirm];
  // Kept in memory only between sign-up and confirmation, to sign in without asking again.
  let pendingPassword = null;

  function showForm(form, { focus = true } = {}) {
    showOnly(forms, form);
    for (const error of [el.signinError, el.signupError, el.confirmError]) clearText(error);
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

  /** Runs a form action with its submit button disabled and errors shown in the form. */
  async function busy(form, errorEl, action) {
    const buttons = [...form.querySelectorAll('button')];
    buttons.forEach((button) => {
      button.disabled = true;
    });
    form.setAttribute('aria-busy', 'true');
    clearText(errorEl);
    try {
      await action();
    } catch (error) {
      reportError(error, errorEl);
      return error;
    } finally {
      buttons.forEach((button) => {
        button.disabled = false;
      });
      form.setAttribute('aria-busy', 'false');
    }
    return null;
  }

  function checkEmail(input, errorEl) {
    const email = input.value.trim();
    if (!email) setText(errorEl, 'auth.missingEmail');
    else if (!EMAIL_PATTERN.test(email)) setText(errorEl, 'auth.invalidEmail');
    else return email;
    input.focus();
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
    const email = checkEmail(el.signinEmail, el.signinError);
    if (!email) return;
    const password = el.signinPassword.value;
    if (!password) {
      setText(el.signinError, 'auth.missingPassword');
      el.signinPassword.focus();
      return;
    }
    const error = await busy(el.signin, el.signinError, () => auth.signIn(email, password));
    if (error instanceof AuthError && error.code === 'UserNotConfirmedException') {
      pendingPassword = password;
      showConfirm(email);
      reportError(error, el.confirmError);
    } else if (!error) {
      el.signinPassword.value = '';
      clearText(el.notice);
    }
  });

  el.signup.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearText(el.signupError);
    const email = checkEmail(el.signupEmail, el.signupError);
    if (!email) return;
    const password = el.signupPassword.value;
    if (password.length < MIN_PASSWORD) {
      setText(el.signupError, 'auth.shortPassword');
      el.signupPassword.focus();
      return;
    }
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
    const email = checkEmail(el.confirmEmail, el.confirmError);
    if (!email) return;
    const code = el.confirmCode.value.trim();
    if (!code) {
      setText(el.confirmError, 'auth.missingCode');
      el.confirmCode.focus();
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
    const email = checkEmail(el.confirmEmail, el.confirmError);
    if (!email) return;
    const error = await busy(el.confirm, el.confirmError, () => auth.resendCode(email));
    if (!error) setText(el.confirmIntro, 'auth.codeResent', { email });
  });

  return {
    /** Shows the sign-in form, optionally with a notice (signed out, session expired). */
    show({ noticeKey } = {}) {
      if (noticeKey) setText(el.notice, noticeKey);
      if (el.signin.hidden && el.signup.hidden && el.confirm.hidden) showForm(el.signin, { focus: false });
    },
    reset({ noticeKey } = {}) {
      pendingPassword = null;
      el.signinPassword.value = '';
      el.signupPassword.value = '';
      if (noticeKey) setText(el.notice, noticeKey);
      else clearText(el.notice);
      showForm(el.signin, { focus: false });
    },
  };
}
