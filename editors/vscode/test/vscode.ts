// The few parts of the `vscode` API the unit-tested modules touch (esbuild aliases `vscode` here).

export enum StatusBarAlignment {
  Left = 1,
  Right = 2,
}

export enum InlineCompletionTriggerKind {
  Invoke = 0,
  Automatic = 1,
}

export class ThemeColor {
  constructor(readonly id: string) {}
}

export interface FakeStatusBarItem {
  id: string;
  text: string;
  tooltip: string | undefined;
  name: string | undefined;
  command: string | undefined;
  backgroundColor: ThemeColor | undefined;
  accessibilityInformation: { label: string; role?: string } | undefined;
  visible: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export const created: FakeStatusBarItem[] = [];

export const window = {
  createStatusBarItem(id: string): FakeStatusBarItem {
    const item: FakeStatusBarItem = {
      id,
      text: '',
      tooltip: undefined,
      name: undefined,
      command: undefined,
      backgroundColor: undefined,
      accessibilityInformation: undefined,
      visible: false,
      show() {
        item.visible = true;
      },
      hide() {
        item.visible = false;
      },
      dispose() {
        item.visible = false;
      },
    };
    created.push(item);
    return item;
  },
};
