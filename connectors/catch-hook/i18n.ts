import { tx, type ConnectorTranslations } from '../../core/connector-i18n.ts';

export const catchHookI18n: ConnectorTranslations = {
  name: tx('Catch hook (incoming webhook)', '接收 Webhook', '接收 Webhook'),
  triggers: {
    'catch_hook.received': {
      title: tx('A request reached a catch hook', '接收 Webhook 收到请求', '接收 Webhook 收到請求'),
      description: tx(
        "A form or system posted data to the hook's address.",
        '表单或系统向该地址发送了数据。',
        '表格或系統向該網址傳送了資料。',
      ),
    },
  },
  events: { 'catch_hook.received': tx('Data received', '收到数据', '收到資料') },
};
