// Simplified Chinese and English. The choice is remembered in localStorage; the first
// visit follows the browser's language. Server messages are shown as the server wrote them.
const KEY = 'hearth.lang';

export const LANGS = [{ code: 'zh-CN', label: '中文' }, { code: 'en', label: 'English' }];

const zh = {
  'shell.language': '语言', 'shell.menu': '菜单', 'shell.signOut': '退出登录',
  'page.dashboard': '概览', 'page.alerts': '跌倒警报', 'page.devices': '设备', 'page.users': '用户', 'page.roles': '角色',
  'page.data-roles': '数据角色', 'page.departments': '部门', 'page.sms': '短信发件箱', 'page.music': '曲库', 'page.playlists': '歌单',
  'page.tasks': '审批', 'page.transit': '客流分析', 'page.open-apps': '开放平台', 'page.backups': '备份',
  'page.notFound': '找不到此页面', 'page.notFoundText': '请从左侧菜单选择页面。',
  'page.noAccess': '您的角色没有此页面的权限。请联系管理员。', 'page.notAvailable': '此版本尚未提供此页面。',
  'action.save': '保存', 'action.create': '创建', 'action.cancel': '取消', 'action.close': '关闭', 'action.ok': '确定',
  'action.edit': '编辑', 'action.delete': '删除', 'action.enable': '启用', 'action.disable': '停用', 'action.remove': '移除', 'action.filter': '筛选',
  'confirm.title': '请确认', 'created': '已创建', 'saved': '已保存', 'deleted': '已删除',
  'err.network': '无法连接服务器，请检查网络后重试。', 'err.badAnswer': '服务器返回了无法识别的应答（HTTP {status}）。', 'err.unknown': '操作失败。',
  'field.id': 'ID', 'field.loginname': '登录名', 'field.name': '名称', 'field.password': '密码', 'field.newPassword': '新密码',
  'field.newPasswordOptional': '新密码（可不填）', 'field.confirmPassword': '再次输入密码', 'field.phone': '手机',
  'field.phoneOptional': '手机号（可不填）', 'field.sex': '性别', 'field.dept': '部门', 'field.remark': '备注', 'field.enabled': '启用',
  'field.roles': '角色', 'field.dataRoles': '数据角色', 'field.state': '状态', 'field.created': '创建时间', 'field.actions': '操作', 'field.time': '时间',
  'state.enabled': '已启用', 'state.disabled': '已停用',
  'sex.none': '未填写', 'sex.male': '男', 'sex.female': '女',
  'v.required': '请填写{field}。', 'v.minLength': '{field}至少需要 {n} 个字符。', 'v.maxLength': '{field}最多 {n} 个字符。',
  'v.format': '{field}的格式不正确。', 'v.noSpaces': '登录名不能包含空格。', 'v.phone': '请输入 11 位手机号码。',
  'v.passwordsDiffer': '两次输入的密码不一致。', 'v.captcha': '请输入图中的 5 个字符。',
  'pager.prev': '上一页', 'pager.next': '下一页', 'pager.info': '第 {page} / {pages} 页，共 {total} 条', 'pager.perPage': '每页 {n} 条',
  'pager.size': '每页条数', 'pager.label': '分页', 'table.empty': '暂无数据。',
  'setup.title': '创建管理员', 'setup.intro': '这是首次启动。请创建第一个超级管理员账户，之后用它登录。',
  'setup.create': '创建并登录', 'setup.passwordHint': '至少 8 个字符。', 'setup.phoneHint': '填写后也可以用手机号登录看护应用。',
  'setup.noToken': '链接不完整。请打开服务器启动时打印的完整链接。',
  'signin.title': '登录', 'signin.submit': '登录', 'signin.captcha': '验证码', 'signin.captchaAlt': '验证码图片', 'signin.newCaptcha': '看不清？换一张',
  'dashboard.hello': '您好，{name}。', 'dashboard.counts': '数量', 'dashboard.surfaces': '其他功能', 'dashboard.notAvailable': '此版本尚未提供',
  'users.add': '新增用户', 'users.createTitle': '新增用户', 'users.editTitle': '编辑用户 {name}', 'users.keepPassword': '留空则不修改密码。',
  'users.noDept': '（无部门）', 'users.setPassword': '设置密码', 'users.passwordTitle': '设置 {name} 的密码',
  'users.passwordNote': '设置后，该用户的所有登录都会失效，需要用新密码重新登录。', 'users.passwordSet': '密码已设置',
  'users.disabled': '用户已停用', 'users.enabled': '用户已启用', 'users.deleteConfirm': '删除用户 {name}？此操作无法撤销。',
  'roles.add': '新增角色', 'roles.createTitle': '新增角色', 'roles.editTitle': '编辑角色 {name}', 'roles.builtin': '内置',
  'roles.permissions': '权限', 'roles.permissionsTitle': '角色 {name} 的权限', 'roles.permissionsSaved': '角色 {name} 的权限已保存',
  'roles.pages': '控制台页面（菜单）', 'roles.filter': '搜索权限', 'roles.selectGroup': '全选 {name}',
  'roles.superAdminAll': '超级管理员拥有全部权限，无需也不能修改。',
  'roles.treeHint': '按功能模块勾选此角色可以调用的接口，以及可以看到的控制台页面。', 'roles.deleteConfirm': '删除角色 {name}？',
  'dataRoles.add': '新增数据角色', 'dataRoles.createTitle': '新增数据角色', 'dataRoles.editTitle': '编辑数据角色 {name}',
  'dataRoles.deleteConfirm': '删除数据角色 {name}？', 'dataRoles.intro': '数据角色限定持有者能看到哪些设备、哪些区域的数据。没有任何范围的种类不受限制。',
  'scopes.title': '数据范围', 'scopes.kind': '种类', 'scopes.value': '值', 'scopes.valueHint': '设备编号或区域名称', 'scopes.add': '添加范围',
  'scopes.none': '（不限）', 'scopes.care.device': '看护设备', 'scopes.transit.area': '地铁区域',
  'scopes.hint': '看护设备填写设备编号（数字）；地铁区域填写车站所在的区。', 'scopes.empty': '每个范围都需要填写值。',
  'scopes.deviceId': '设备编号必须是数字：{value}',
  'depts.intro': '可以拖动部门到另一个部门上来移动，也可以使用按钮。', 'depts.empty': '还没有部门。', 'depts.addTop': '新增顶级部门',
  'depts.addChild': '添加下级', 'depts.addUnder': '在 {name} 下新增部门', 'depts.alias': '别名', 'depts.rename': '重命名',
  'depts.renameTitle': '修改部门 {name}', 'depts.up': '上移', 'depts.down': '下移', 'depts.move': '移动', 'depts.moveTitle': '移动部门 {name}',
  'depts.newParent': '新的上级部门', 'depts.topLevel': '（顶级）', 'depts.moved': '已移动 {name}', 'depts.deleteConfirm': '删除部门 {name}？',
  'sms.intro': '未配置短信网关时，验证码短信写入这里，由管理员转告用户。', 'sms.kind': '用途', 'sms.kind1': '注册', 'sms.kind2': '重置密码',
  'sms.text': '内容', 'sms.phoneFilter': '按手机号筛选', 'sms.empty': '发件箱是空的。',
};

const en = {
  'shell.language': 'Language', 'shell.menu': 'Menu', 'shell.signOut': 'Sign out',
  'page.dashboard': 'Dashboard', 'page.alerts': 'Fall alerts', 'page.devices': 'Devices', 'page.users': 'Users', 'page.roles': 'Roles',
  'page.data-roles': 'Data roles', 'page.departments': 'Departments', 'page.sms': 'SMS outbox', 'page.music': 'Music library',
  'page.playlists': 'Playlists', 'page.tasks': 'Approval tasks', 'page.transit': 'Transit analytics', 'page.open-apps': 'Open platform',
  'page.backups': 'Backups', 'page.notFound': 'Page not found', 'page.notFoundText': 'Choose a page from the menu.',
  'page.noAccess': 'None of your roles grants this page. Ask an administrator.', 'page.notAvailable': 'This version does not have this page yet.',
  'action.save': 'Save', 'action.create': 'Create', 'action.cancel': 'Cancel', 'action.close': 'Close', 'action.ok': 'OK',
  'action.edit': 'Edit', 'action.delete': 'Delete', 'action.enable': 'Enable', 'action.disable': 'Disable', 'action.remove': 'Remove', 'action.filter': 'Filter',
  'confirm.title': 'Please confirm', 'created': 'Created', 'saved': 'Saved', 'deleted': 'Deleted',
  'err.network': 'Cannot reach the server; check the network and try again.', 'err.badAnswer': 'The server sent an answer this page cannot read (HTTP {status}).',
  'err.unknown': 'The request failed.',
  'field.id': 'ID', 'field.loginname': 'Login name', 'field.name': 'Name', 'field.password': 'Password', 'field.newPassword': 'New password',
  'field.newPasswordOptional': 'New password (optional)', 'field.confirmPassword': 'Repeat the password', 'field.phone': 'Mobile',
  'field.phoneOptional': 'Mobile number (optional)', 'field.sex': 'Sex', 'field.dept': 'Department', 'field.remark': 'Remark', 'field.enabled': 'Enabled',
  'field.roles': 'Roles', 'field.dataRoles': 'Data roles', 'field.state': 'State', 'field.created': 'Created', 'field.actions': 'Actions', 'field.time': 'Time',
  'state.enabled': 'Enabled', 'state.disabled': 'Disabled',
  'sex.none': 'Not given', 'sex.male': 'Male', 'sex.female': 'Female',
  'v.required': '{field} is required.', 'v.minLength': '{field} needs at least {n} characters.', 'v.maxLength': '{field} may have at most {n} characters.',
  'v.format': '{field} is not in the right format.', 'v.noSpaces': 'The login name may not contain spaces.', 'v.phone': 'Enter an 11-digit mobile number.',
  'v.passwordsDiffer': 'The two passwords differ.', 'v.captcha': 'Type the 5 characters shown in the picture.',
  'pager.prev': 'Previous', 'pager.next': 'Next', 'pager.info': 'Page {page} of {pages}, {total} in all', 'pager.perPage': '{n} per page',
  'pager.size': 'Rows per page', 'pager.label': 'Pages', 'table.empty': 'Nothing here yet.',
  'setup.title': 'Create the administrator', 'setup.intro': 'This is the first start. Create the first super-administrator account; you will sign in with it.',
  'setup.create': 'Create and sign in', 'setup.passwordHint': 'At least 8 characters.', 'setup.phoneHint': 'With a mobile number you can also sign in to the care app.',
  'setup.noToken': 'The link is incomplete. Open the whole link the server printed when it started.',
  'signin.title': 'Sign in', 'signin.submit': 'Sign in', 'signin.captcha': 'Captcha', 'signin.captchaAlt': 'Captcha picture', 'signin.newCaptcha': 'Hard to read? Get another',
  'dashboard.hello': 'Hello, {name}.', 'dashboard.counts': 'Counts', 'dashboard.surfaces': 'Other features', 'dashboard.notAvailable': 'Not available in this version',
  'users.add': 'Add user', 'users.createTitle': 'Add a user', 'users.editTitle': 'Edit user {name}', 'users.keepPassword': 'Leave empty to keep the password.',
  'users.noDept': '(no department)', 'users.setPassword': 'Set password', 'users.passwordTitle': 'Set the password of {name}',
  'users.passwordNote': 'Every session of this user ends; they sign in again with the new password.', 'users.passwordSet': 'Password set',
  'users.disabled': 'User disabled', 'users.enabled': 'User enabled', 'users.deleteConfirm': 'Delete user {name}? This cannot be undone.',
  'roles.add': 'Add role', 'roles.createTitle': 'Add a role', 'roles.editTitle': 'Edit role {name}', 'roles.builtin': 'built-in',
  'roles.permissions': 'Permissions', 'roles.permissionsTitle': 'Permissions of {name}', 'roles.permissionsSaved': 'Permissions of {name} saved',
  'roles.pages': 'Console pages (menu)', 'roles.filter': 'Search permissions', 'roles.selectGroup': 'Select all of {name}',
  'roles.superAdminAll': '超级管理员 (super-administrator) holds every permission; it needs no and allows no changes.',
  'roles.treeHint': 'Tick, per feature, the operations this role may call and the console pages it sees.', 'roles.deleteConfirm': 'Delete role {name}?',
  'dataRoles.add': 'Add data role', 'dataRoles.createTitle': 'Add a data role', 'dataRoles.editTitle': 'Edit data role {name}',
  'dataRoles.deleteConfirm': 'Delete data role {name}?', 'dataRoles.intro': 'A data role limits which devices and areas its holders see. A kind no scope mentions is not limited.',
  'scopes.title': 'Scopes', 'scopes.kind': 'Kind', 'scopes.value': 'Value', 'scopes.valueHint': 'Device number or district', 'scopes.add': 'Add scope',
  'scopes.none': '(unlimited)', 'scopes.care.device': 'Care device', 'scopes.transit.area': 'Transit district',
  'scopes.hint': 'For a care device give its number; for a transit district the district of the stations.', 'scopes.empty': 'Every scope needs a value.',
  'scopes.deviceId': 'A device number is digits only: {value}',
  'depts.intro': 'Drag a department onto another to move it there, or use the buttons.', 'depts.empty': 'No departments yet.', 'depts.addTop': 'Add top-level department',
  'depts.addChild': 'Add below', 'depts.addUnder': 'New department under {name}', 'depts.alias': 'Alias', 'depts.rename': 'Rename',
  'depts.renameTitle': 'Change department {name}', 'depts.up': 'Move up', 'depts.down': 'Move down', 'depts.move': 'Move', 'depts.moveTitle': 'Move department {name}',
  'depts.newParent': 'New parent department', 'depts.topLevel': '(top level)', 'depts.moved': 'Moved {name}', 'depts.deleteConfirm': 'Delete department {name}?',
  'sms.intro': 'With no SMS gateway configured, verification texts are written here for an administrator to pass on.', 'sms.kind': 'Purpose',
  'sms.kind1': 'Registration', 'sms.kind2': 'Password reset', 'sms.text': 'Text', 'sms.phoneFilter': 'Filter by mobile number', 'sms.empty': 'The outbox is empty.',
};

const DICTS = { 'zh-CN': zh, en };

function initial() {
  const saved = localStorage.getItem(KEY);
  if (saved && DICTS[saved]) return saved;
  return (navigator.language || '').toLowerCase().startsWith('zh') ? 'zh-CN' : 'en';
}

let current = initial();

export const lang = () => current;

export function setLang(code) {
  if (!DICTS[code]) return;
  current = code;
  localStorage.setItem(KEY, code);
  document.documentElement.lang = code;
}

/// The text for `key` with {name} placeholders filled; the key itself when unknown.
export function t(key, vars) {
  const text = DICTS[current][key] ?? DICTS.en[key] ?? key;
  return vars ? text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m)) : text;
}

export const dictionaries = DICTS;
