; Inno Setup script of the Windows installer (Inno Setup 6). Build on Windows after
; `python packaging\build.py --no-installers` has made dist\messenger and dist\messenger-server:
;
;   iscc /DAppVersion=0.1.0 packaging\windows\messenger.iss
;
; (AppVersion: the version in pyproject.toml.) Output: dist\messenger-<version>-windows-setup.exe.
; Installs the app for the current user or, when run as administrator, for everyone; the
; optional "server" component adds messenger-server.exe and the WinSW service recipe
; (docs/admin.md, "Windows service").

#ifndef AppVersion
  #error Pass the version: iscc /DAppVersion=X.Y.Z messenger.iss
#endif
#define Root "..\.."

[Setup]
AppId={{6B1F0C52-4B7E-4C1B-9E4A-6D2B8E0A7C31}
AppName=Messenger
AppVersion={#AppVersion}
AppVerName=Messenger {#AppVersion}
AppPublisher=Messenger contributors
DefaultDirName={autopf}\Messenger
DefaultGroupName=Messenger
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir={#Root}\dist
OutputBaseFilename=messenger-{#AppVersion}-windows-setup
SetupIconFile={#Root}\build\packaging\icons\messenger.ico
UninstallDisplayIcon={app}\messenger.exe
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "pt_BR"; MessagesFile: "compiler:Languages\BrazilianPortuguese.isl"

[Types]
Name: "app"; Description: "Messenger app"
Name: "full"; Description: "Messenger app and server"
Name: "custom"; Description: "Custom"; Flags: iscustom

[Components]
Name: "app"; Description: "Messenger desktop app"; Types: app full custom; Flags: fixed
Name: "server"; Description: "Messenger server (for admins)"; Types: full

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
Source: "{#Root}\dist\messenger\*"; DestDir: "{app}"; Components: app; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#Root}\dist\messenger-server\*"; DestDir: "{app}\server"; Components: server; Flags: ignoreversion recursesubdirs createallsubdirs
Source: "{#Root}\packaging\windows\messenger-server-service.xml"; DestDir: "{app}\server"; Components: server; Flags: ignoreversion
Source: "{#Root}\packaging\linux\server.toml"; DestDir: "{app}\server"; DestName: "server.toml.example"; Components: server; Flags: ignoreversion
Source: "{#Root}\docs\install.md"; DestDir: "{app}\docs"; Flags: ignoreversion
Source: "{#Root}\docs\admin.md"; DestDir: "{app}\docs"; Components: server; Flags: ignoreversion

[Icons]
Name: "{autoprograms}\Messenger"; Filename: "{app}\messenger.exe"
Name: "{autodesktop}\Messenger"; Filename: "{app}\messenger.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\messenger.exe"; Description: "{cm:LaunchProgram,Messenger}"; Flags: nowait postinstall skipifsilent

; The user's chats (%LOCALAPPDATA%\messenger) are not removed by the uninstaller.
