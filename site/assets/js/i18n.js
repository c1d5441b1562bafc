// All UI text in English and Chinese, the current language, and translation of the page.
//
// Elements carry their text key in `data-i18n` (and `data-i18n-params` for values), so a
// language switch re-translates static and dynamic text alike without re-rendering views.

import { storage } from './storage.js';

const STORAGE_KEY = 'mumble.lang';
export const LANGUAGES = ['en', 'zh'];

const STRINGS = {
  en: {
    appName: 'Mumble',
    appTitle: 'Mumble — your voice, painted',
    skipToContent: 'Skip to content',
    loading: 'Loading…',
    'nav.label': 'Main',
    'nav.record': 'Record',
    'nav.gallery': 'Gallery',
    'nav.profile': 'Profile',
    'language.label': 'Language',
    'offline.banner': 'You are offline. Mumble will carry on when the connection is back.',
    'config.errorTitle': 'Mumble cannot start',
    'config.errorBody':
      'The site settings (config.json) could not be read. Reload the page; if this keeps happening, the site is not fully deployed.',

    'auth.signInTitle': 'Sign in',
    'auth.tagline': 'Say something. Mumble paints it, with the weather outside.',
    'auth.email': 'Email',
    'auth.password': 'Password',
    'auth.signIn': 'Sign in',
    'auth.signOut': 'Sign out',
    'auth.noAccount': 'Create an account',
    'auth.signUpTitle': 'Create an account',
    'auth.passwordHint': 'At least 8 characters, with upper- and lower-case letters, a number and a symbol.',
    'auth.signUp': 'Create account',
    'auth.haveAccount': 'I already have an account',
    'auth.confirmTitle': 'Check your email',
    'auth.confirmIntro': 'We sent a confirmation code to {email}. Enter it below.',
    'auth.confirmIntroGeneric': 'Enter the confirmation code we sent to your email.',
    'auth.code': 'Confirmation code',
    'auth.confirm': 'Confirm',
    'auth.resend': 'Send the code again',
    'auth.forgot': 'Forgot your password?',
    'auth.forgotTitle': 'Reset your password',
    'auth.forgotIntro': 'Enter the email of your account. We send you a code to set a new password.',
    'auth.sendCode': 'Send me a code',
    'auth.resetTitle': 'Choose a new password',
    'auth.resetIntro': 'We sent a code to {email}. Enter it with your new password.',
    'auth.newPassword': 'New password',
    'auth.setPassword': 'Set the new password',
    'auth.passwordChanged': 'Your password is changed. Sign in with the new one.',
    'auth.backToSignIn': 'Back to sign in',
    'auth.codeResent': 'A new code is on its way to {email}.',
    'auth.confirmedSignIn': 'Your account is confirmed. Sign in to start.',
    'auth.signedOut': 'You are signed out.',
    'auth.sessionExpired': 'Your session has ended. Please sign in again.',
    'auth.working': 'One moment…',
    'auth.missingEmail': 'Enter your email address.',
    'auth.invalidEmail': 'That does not look like an email address.',
    'auth.missingPassword': 'Enter your password.',
    'auth.shortPassword': 'The password needs at least 8 characters.',
    'auth.missingCode': 'Enter the code from the email.',
    'auth.error.UsernameExistsException': 'An account with this email already exists. Sign in instead.',
    'auth.error.NotAuthorizedException': 'The email or password is not right.',
    'auth.error.CodeMismatchException': 'That code is not right. Check the email and try again.',
    'auth.error.ExpiredCodeException': 'That code has expired. Ask for a new one.',
    'auth.error.InvalidPasswordException': 'This password is not strong enough: use at least 8 characters, with upper- and lower-case letters, a number and a symbol.',
    'auth.error.UserNotConfirmedException': 'This account is not confirmed yet. Enter the code from the email.',
    'auth.error.UserNotFoundException': 'The email or password is not right.',
    'auth.error.LimitExceededException': 'Too many attempts. Wait a few minutes and try again.',
    'auth.error.TooManyRequestsException': 'Too many attempts. Wait a moment and try again.',
    'auth.error.TooManyFailedAttemptsException': 'Too many failed attempts. Wait a few minutes and try again.',
    'auth.error.PasswordResetRequiredException': 'Mumble has moved: set a new password. We have sent a code to your email.',
    'auth.error.InvalidParameterException': 'Check the email address: it does not look valid.',
    'auth.error.CodeDeliveryFailureException': 'The code could not be sent. Check the email address and try again.',
    'auth.error.NetworkError': 'The sign-in service cannot be reached. Check your connection and try again.',
    'auth.error.UnsupportedChallenge': 'This account needs a step Mumble does not support ({detail}).',
    'auth.error.NotSignedIn': 'Please sign in.',
    'auth.error.unknown': 'Something went wrong with your account. Please try again.',

    'record.title': 'Record a mumble',
    'record.intro': 'Say what is on your mind, up to one minute. Mumble turns it into a picture.',
    'record.start': 'Record',
    'record.stop': 'Stop',
    'record.starting': 'Starting…',
    'record.listen': 'Listen before you send',
    'record.again': 'Record again',
    'record.useLocation': 'Use my location for the weather',
    'record.locationHint': 'Optional. Your position is only used to look up the weather for this picture.',
    'record.send': 'Make my picture',
    'record.offlineWords': 'What you said',
    'record.offlineWordsHint': 'This Mumble runs without a speech service, so it cannot listen: type the words of your recording.',
    'record.offlineWordsMissing': 'Type what you said first: this Mumble cannot listen to the recording.',
    'record.hint.ready': 'Press Record and allow the microphone when your browser asks.',
    'record.hint.recording': 'Recording… press Stop when you are done.',
    'record.hint.recorded': 'Recorded {duration}. Listen to it, then make your picture.',
    'record.length': 'Length: {duration}',
    'record.hint.maxReached': 'That is the one-minute limit, so the recording stopped.',
    'record.started': 'Recording started.',
    'record.stopped': 'Recording stopped.',

    'mic.denied':
      'Mumble is not allowed to use the microphone. Allow it in the browser (the icon next to the address), then press Record again.',
    'mic.noDevice': 'No microphone was found. Connect one and press Record again.',
    'mic.busy': 'The microphone is in use by another app. Close it and press Record again.',
    'mic.unsupported': 'This browser cannot record audio. Try a current Chrome, Edge, Firefox or Safari.',
    'mic.insecure': 'Recording needs a secure (https) page.',
    'mic.failed': 'The recording could not start. Check the microphone and press Record again.',
    'mic.empty': 'The recording is empty. Please record again.',

    'location.asking': 'Asking your browser for your position…',
    'location.ready': 'Your location will be used for the weather.',
    'location.denied': 'Location is not allowed, so the picture is made without the weather. That is fine.',
    'location.unavailable': 'Your position could not be found, so the picture is made without the weather.',
    'location.unsupported': 'This browser cannot share a location.',

    'job.title': 'Progress',
    'job.uploading': 'Uploading your recording',
    'job.starting': 'Starting…',
    'job.status.queued': 'Queued',
    'job.status.transcribing': 'Listening to your voice',
    'job.status.weather': 'Checking the weather',
    'job.status.prompting': 'Writing the picture’s description',
    'job.status.generating': 'Painting',
    'job.status.storing': 'Saving',
    'job.status.done': 'Done',
    'job.status.failed': 'Failed',
    'job.channel.live': 'Live updates are on.',
    'job.channel.polling': 'Live updates are not available; checking every 2 seconds.',
    'job.retry': 'Try again',
    'job.failed': 'The picture could not be made: {reason}',
    'job.reason.upstream_failed': 'a service Mumble uses did not answer',
    'job.reason.invalid_input': 'the recording could not be used',
    'job.reason.timeout': 'it took too long',
    'job.step.weatherSkipped': 'Weather skipped: no location was shared',
    'job.step.weatherUnavailable': 'Weather not available right now',
    'job.failedNoReason': 'The picture could not be made. Please try again.',
    'job.timeout': 'This is taking much longer than usual. Look in the gallery later, or try again.',

    'upload.failed': 'The upload failed (HTTP {status}). Please try again.',
    'upload.network': 'The upload failed because the connection dropped. Please try again.',

    'result.title': 'Your picture',
    'result.ready': 'Your picture is ready.',
    'weather.noLocation': 'No location was shared, so the picture has no weather.',
    'weather.unavailable': 'Weather not available right now, so the picture has no weather.',
    'result.another': 'Record another',
    'result.toGallery': 'Open the gallery',

    'gallery.title': 'Your pictures',
    'gallery.empty': 'No pictures yet.',
    'gallery.emptyAction': 'Record your first mumble',
    'gallery.more': 'Show more',
    'gallery.loading': 'Loading pictures…',
    'gallery.itemLabel': 'Open the picture from {date}',
    'gallery.deleted': 'The picture was deleted.',
    'gallery.loaded': '{count} pictures in your gallery.',

    'detail.title': 'Picture',
    'detail.transcript': 'What you said',
    'detail.description': 'Picture description',
    'detail.prompt': 'What the image model was asked',
    'describe.sentence': '{style} of “{words}”{setting}.',
    'describe.setting': ', {parts}',
    'describe.style': 'A soft, dreamy watercolour painting',
    'describe.time.dawn': 'at dawn',
    'describe.time.morning': 'in the morning',
    'describe.time.midday': 'around midday',
    'describe.time.afternoon': 'in the afternoon',
    'describe.time.evening': 'in the evening',
    'describe.time.night': 'at night',
    'detail.weather': 'Weather',
    'detail.date': 'Made on',
    'detail.download': 'Download',
    'detail.delete': 'Delete',
    'detail.downloadFailed': 'The download could not start. Please try again.',
    'gallery.unavailable': 'This picture was lost when Mumble moved; its words are kept.',
    'dialog.close': 'Close',
    'dialog.cancel': 'Cancel',
    'confirmDelete.title': 'Delete this picture?',
    'confirmDelete.body': 'The picture and its recording details are removed for good.',
    'confirmDelete.confirm': 'Delete',

    'profile.title': 'Profile',
    'profile.displayName': 'Display name',
    'profile.language': 'Language',
    'profile.languageHint': 'Used for the page, for understanding your voice and for the weather.',
    'profile.save': 'Save',
    'profile.saved': 'Your profile is saved.',
    'profile.tooLong': 'The display name can have at most {max} characters.',

    'error.offline': 'You are offline. Try again when the connection is back.',
    'error.network': 'Mumble’s server cannot be reached. Check your connection and try again.',
    'error.sessionExpired': 'Your session has ended. Please sign in again.',
    'error.tooLarge': 'The recording is too large. Keep it under one minute.',
    'error.unsupportedType': 'This recording format is not accepted. Try another browser.',
    'error.rateLimited': 'Too many requests. Wait a moment and try again.',
    'error.quotaExceeded': 'You have made all of today’s pictures. You can make more in about {hours} h.',
    'error.recordingUsed': 'This recording has already been made into a picture. Record a new one.',
    'error.notFound': 'That was not found. It may have been deleted.',
    'error.server': 'Mumble’s server had a problem (HTTP {status}). Please try again.',
    'error.rejected': 'Mumble could not accept that. Reload the page and try again.',
    'error.code.invalid_input': 'Mumble could not accept that. Reload the page and try again.',
    'error.code.payload_too_large': 'The recording is too large. Keep it under one minute.',
    'error.code.unavailable': 'A service Mumble depends on is not available right now. Try again shortly.',
    'error.code.upstream_failed': 'A service Mumble uses did not answer. Try again shortly.',
    'error.unknown': 'Something went wrong. Please try again.',
  },
  zh: {
    appName: 'Mumble',
    appTitle: 'Mumble — 把你的声音画出来',
    skipToContent: '跳到主要内容',
    loading: '加载中…',
    'nav.label': '主导航',
    'nav.record': '录音',
    'nav.gallery': '画廊',
    'nav.profile': '个人资料',
    'language.label': '语言',
    'offline.banner': '你已离线。网络恢复后 Mumble 会继续。',
    'config.errorTitle': 'Mumble 无法启动',
    'config.errorBody': '无法读取站点设置（config.json）。请刷新页面；如果一直出现，说明站点尚未完整部署。',

    'auth.signInTitle': '登录',
    'auth.tagline': '说点什么，Mumble 会结合窗外的天气把它画出来。',
    'auth.email': '电子邮箱',
    'auth.password': '密码',
    'auth.signIn': '登录',
    'auth.signOut': '退出登录',
    'auth.noAccount': '创建账号',
    'auth.signUpTitle': '创建账号',
    'auth.passwordHint': '至少 8 个字符，包含大写字母、小写字母、数字和符号。',
    'auth.signUp': '创建账号',
    'auth.haveAccount': '我已有账号',
    'auth.confirmTitle': '请查收邮件',
    'auth.confirmIntro': '我们已向 {email} 发送了验证码，请在下方输入。',
    'auth.confirmIntroGeneric': '请输入我们发送到你邮箱的验证码。',
    'auth.code': '验证码',
    'auth.confirm': '确认',
    'auth.resend': '重新发送验证码',
    'auth.forgot': '忘记密码？',
    'auth.forgotTitle': '重置密码',
    'auth.forgotIntro': '输入账号的电子邮箱，我们会发送验证码，用来设置新密码。',
    'auth.sendCode': '发送验证码',
    'auth.resetTitle': '设置新密码',
    'auth.resetIntro': '验证码已发送到 {email}，请输入验证码和新密码。',
    'auth.newPassword': '新密码',
    'auth.setPassword': '设置新密码',
    'auth.passwordChanged': '密码已修改，请用新密码登录。',
    'auth.backToSignIn': '返回登录',
    'auth.codeResent': '新的验证码已发送到 {email}。',
    'auth.confirmedSignIn': '账号已确认，请登录。',
    'auth.signedOut': '你已退出登录。',
    'auth.sessionExpired': '登录已过期，请重新登录。',
    'auth.working': '请稍候…',
    'auth.missingEmail': '请输入电子邮箱。',
    'auth.invalidEmail': '这看起来不是有效的电子邮箱。',
    'auth.missingPassword': '请输入密码。',
    'auth.shortPassword': '密码至少需要 8 个字符。',
    'auth.missingCode': '请输入邮件中的验证码。',
    'auth.error.UsernameExistsException': '该邮箱已注册，请直接登录。',
    'auth.error.NotAuthorizedException': '邮箱或密码不正确。',
    'auth.error.CodeMismatchException': '验证码不正确，请核对邮件后重试。',
    'auth.error.ExpiredCodeException': '验证码已过期，请重新获取。',
    'auth.error.InvalidPasswordException': '密码强度不够：至少 8 个字符，包含大写字母、小写字母、数字和符号。',
    'auth.error.UserNotConfirmedException': '账号尚未确认，请输入邮件中的验证码。',
    'auth.error.UserNotFoundException': '邮箱或密码不正确。',
    'auth.error.LimitExceededException': '尝试次数过多，请几分钟后再试。',
    'auth.error.TooManyRequestsException': '请求过于频繁，请稍后再试。',
    'auth.error.TooManyFailedAttemptsException': '失败次数过多，请几分钟后再试。',
    'auth.error.PasswordResetRequiredException': 'Mumble 已经搬家：请设置新密码。验证码已发送到你的邮箱。',
    'auth.error.InvalidParameterException': '请检查电子邮箱，它看起来无效。',
    'auth.error.CodeDeliveryFailureException': '验证码无法发送，请检查电子邮箱后重试。',
    'auth.error.NetworkError': '无法连接登录服务，请检查网络后重试。',
    'auth.error.UnsupportedChallenge': '该账号需要 Mumble 暂不支持的验证步骤（{detail}）。',
    'auth.error.NotSignedIn': '请先登录。',
    'auth.error.unknown': '账号操作出错，请重试。',

    'record.title': '录一段话',
    'record.intro': '说说你在想什么，最长一分钟。Mumble 会把它变成一幅画。',
    'record.start': '录音',
    'record.stop': '停止',
    'record.starting': '正在启动…',
    'record.listen': '发送前先听一听',
    'record.again': '重新录音',
    'record.useLocation': '使用我的位置获取天气',
    'record.locationHint': '可选。你的位置只用于查询这幅画的天气。',
    'record.send': '生成我的画',
    'record.offlineWords': '你说的话',
    'record.offlineWordsHint': '这个 Mumble 没有接入语音识别服务，听不懂录音：请把你说的话打出来。',
    'record.offlineWordsMissing': '请先输入你说的话：这个 Mumble 听不懂录音。',
    'record.hint.ready': '点击“录音”，并在浏览器询问时允许使用麦克风。',
    'record.hint.recording': '正在录音…说完后点击“停止”。',
    'record.hint.recorded': '已录制 {duration}。听一听，然后生成你的画。',
    'record.length': '时长：{duration}',
    'record.hint.maxReached': '已达到一分钟上限，录音已停止。',
    'record.started': '开始录音。',
    'record.stopped': '录音已停止。',

    'mic.denied': 'Mumble 没有麦克风权限。请在浏览器中允许（地址栏旁的图标），然后再次点击“录音”。',
    'mic.noDevice': '没有找到麦克风。请连接麦克风后再次点击“录音”。',
    'mic.busy': '麦克风正被其他应用占用。请关闭该应用后再试。',
    'mic.unsupported': '此浏览器无法录音。请使用新版 Chrome、Edge、Firefox 或 Safari。',
    'mic.insecure': '录音需要安全（https）页面。',
    'mic.failed': '无法开始录音，请检查麦克风后再点“录音”。',
    'mic.empty': '录音是空的，请重新录制。',

    'location.asking': '正在向浏览器获取你的位置…',
    'location.ready': '将使用你的位置获取天气。',
    'location.denied': '未允许获取位置，这幅画将不包含天气信息。没关系。',
    'location.unavailable': '无法获取你的位置，这幅画将不包含天气信息。',
    'location.unsupported': '此浏览器无法提供位置。',

    'job.title': '进度',
    'job.uploading': '正在上传录音',
    'job.starting': '正在开始…',
    'job.status.queued': '排队中',
    'job.status.transcribing': '正在识别语音',
    'job.status.weather': '正在查询天气',
    'job.status.prompting': '正在构思画面',
    'job.status.generating': '正在作画',
    'job.status.storing': '正在保存',
    'job.status.done': '完成',
    'job.status.failed': '失败',
    'job.channel.live': '实时更新已开启。',
    'job.channel.polling': '实时更新不可用，每 2 秒检查一次进度。',
    'job.retry': '重试',
    'job.failed': '无法生成这幅画：{reason}',
    'job.reason.upstream_failed': 'Mumble 使用的服务没有响应',
    'job.reason.invalid_input': '这段录音无法使用',
    'job.reason.timeout': '耗时太久',
    'job.step.weatherSkipped': '已跳过天气：未提供位置',
    'job.step.weatherUnavailable': '暂时无法获取天气',
    'job.failedNoReason': '无法生成这幅画，请重试。',
    'job.timeout': '这次比平时慢很多。稍后去画廊看看，或者重试。',

    'upload.failed': '上传失败（HTTP {status}），请重试。',
    'upload.network': '网络中断，上传失败，请重试。',

    'result.title': '你的画',
    'result.ready': '你的画已经完成。',
    'weather.noLocation': '未提供位置，这幅画没有使用天气。',
    'weather.unavailable': '暂时无法获取天气，这幅画没有使用天气。',
    'result.another': '再录一段',
    'result.toGallery': '打开画廊',

    'gallery.title': '你的画',
    'gallery.empty': '还没有作品。',
    'gallery.emptyAction': '录下你的第一段话',
    'gallery.more': '加载更多',
    'gallery.loading': '正在加载作品…',
    'gallery.itemLabel': '打开 {date} 的画',
    'gallery.deleted': '这幅画已删除。',
    'gallery.loaded': '画廊中有 {count} 幅画。',

    'detail.title': '作品',
    'detail.transcript': '你说的话',
    'detail.description': '画面描述',
    'detail.prompt': '给图像模型的提示词',
    'describe.sentence': '描绘“{words}”的{style}{setting}。',
    'describe.setting': '，{parts}',
    'describe.style': '柔和梦幻的水彩画',
    'describe.time.dawn': '黎明时分',
    'describe.time.morning': '清晨',
    'describe.time.midday': '正午前后',
    'describe.time.afternoon': '午后',
    'describe.time.evening': '傍晚',
    'describe.time.night': '夜晚',
    'detail.weather': '天气',
    'detail.date': '创作时间',
    'detail.download': '下载',
    'detail.delete': '删除',
    'detail.downloadFailed': '无法开始下载，请重试。',
    'gallery.unavailable': '这幅画在 Mumble 搬家时遗失了，文字仍然保留。',
    'dialog.close': '关闭',
    'dialog.cancel': '取消',
    'confirmDelete.title': '删除这幅画？',
    'confirmDelete.body': '这幅画及其录音信息将被永久删除。',
    'confirmDelete.confirm': '删除',

    'profile.title': '个人资料',
    'profile.displayName': '显示名称',
    'profile.language': '语言',
    'profile.languageHint': '用于页面显示、语音识别和天气描述。',
    'profile.save': '保存',
    'profile.saved': '个人资料已保存。',
    'profile.tooLong': '显示名称最多 {max} 个字符。',

    'error.offline': '你已离线，请在网络恢复后重试。',
    'error.network': '无法连接 Mumble 服务器，请检查网络后重试。',
    'error.sessionExpired': '登录已过期，请重新登录。',
    'error.tooLarge': '录音文件太大，请控制在一分钟以内。',
    'error.unsupportedType': '不支持这种录音格式，请换一个浏览器试试。',
    'error.rateLimited': '请求过于频繁，请稍后再试。',
    'error.quotaExceeded': '今天的图片次数已用完，大约 {hours} 小时后可以继续。',
    'error.recordingUsed': '这段录音已经生成过图片了，请重新录一段。',
    'error.notFound': '没有找到，可能已被删除。',
    'error.server': 'Mumble 服务器出错（HTTP {status}），请重试。',
    'error.rejected': 'Mumble 无法接受这个请求，请刷新页面后重试。',
    'error.code.invalid_input': 'Mumble 无法接受这个请求，请刷新页面后重试。',
    'error.code.payload_too_large': '录音文件太大，请控制在一分钟以内。',
    'error.code.unavailable': 'Mumble 依赖的服务暂时不可用，请稍后再试。',
    'error.code.upstream_failed': 'Mumble 使用的服务没有响应，请稍后再试。',
    'error.unknown': '出错了，请重试。',
  },
};

function detectLanguage() {
  const saved = storage.get(STORAGE_KEY);
  if (LANGUAGES.includes(saved)) return saved;
  const preferred = navigator.languages?.length ? navigator.languages : [navigator.language || 'en'];
  for (const tag of preferred) {
    const lower = String(tag).toLowerCase();
    if (lower.startsWith('zh')) return 'zh';
    if (lower.startsWith('en')) return 'en';
  }
  return 'en';
}

let current = detectLanguage();

/** The current UI language: "en" or "zh". */
export function lang() {
  return current;
}

/** The BCP 47 tag for the current language (for `lang` attributes and Intl formatting). */
export function langTag() {
  return current === 'zh' ? 'zh-CN' : 'en';
}

export function has(key) {
  return key in STRINGS.en;
}

/** The text for `key` in the current language, with `{name}` placeholders filled from `params`. */
export function t(key, params = {}) {
  const template = STRINGS[current][key] ?? STRINGS.en[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** Re-translates every element under `root` that carries a text key. */
export function translate(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) {
    let params = {};
    if (el.dataset.i18nParams) {
      try {
        params = JSON.parse(el.dataset.i18nParams);
      } catch {
        params = {};
      }
    }
    el.textContent = t(el.dataset.i18n, params);
  }
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) {
    el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel, parseParams(el.dataset.i18nAriaParams)));
  }
  for (const el of root.querySelectorAll('[data-i18n-alt]')) {
    el.setAttribute('alt', t(el.dataset.i18nAlt));
  }
  if (root === document) document.title = t('appTitle');
}

function parseParams(raw) {
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    return {};
  }
}

/** Switches the UI language, re-translates the page and tells views through a `mumble:lang` event. */
export function setLanguage(next, { persist = true } = {}) {
  if (!LANGUAGES.includes(next)) return;
  current = next;
  if (persist) storage.set(STORAGE_KEY, next);
  applyLanguage();
  window.dispatchEvent(new CustomEvent('mumble:lang', { detail: next }));
}

/** Sets the document's `lang` attribute and translates the page for the current language. */
export function applyLanguage() {
  document.documentElement.lang = langTag();
  translate(document);
}
